// c2sp_verify is an independent external verifier for the ledger's transparency logs
// (normative format: /work/shared/ledger-format.md). Everything cryptographic is delegated
// to the Go team's reference code: golang.org/x/mod/sumdb/note (C2SP signed-note, Ed25519)
// and golang.org/x/mod/sumdb/tlog (RFC 6962 hashing, inclusion and consistency proofs).
//
//	c2sp_verify -url http://HOST:PORT/api/v1/ledger -log ID -vkey 'origin+keyid+base64'
//	c2sp_verify -selftest          # spec §6 known-answer vectors, no server needed
//
// Exit 0 when everything verifies; otherwise "FAIL: <what>" on stderr and exit 1.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var (
	b64       = base64.StdEncoding.Strict()
	decRe     = regexp.MustCompile(`^(0|[1-9][0-9]*)$`) // size: no leading zeros
	emptyRoot = tlog.Hash(sha256.Sum256(nil))           // RFC 6962 MTH of the empty tree (tlog uses all zeros)
	client    = &http.Client{Timeout: 60 * time.Second}
	base      string
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func must(err error, what string, a ...any) {
	if err != nil {
		fail("%s: %v", fmt.Sprintf(what, a...), err)
	}
}

// decodeHash decodes standard padded base64 strictly (canonical encoding, exactly 32 bytes).
func decodeHash(s string) (h tlog.Hash, err error) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != 32 || b64.EncodeToString(b) != s {
		return h, fmt.Errorf("not a canonical base64 32-byte hash: %q", s)
	}
	copy(h[:], b)
	return h, nil
}

// hashList decodes a JSON array of base64 hashes (a proof) or fails.
func hashList(what string, v any) []tlog.Hash {
	list, ok := v.([]any)
	if !ok {
		fail("%s: proof is not a JSON array", what)
	}
	out := make([]tlog.Hash, len(list))
	for i, x := range list {
		s, _ := x.(string)
		h, err := decodeHash(s)
		must(err, "%s: proof[%d]", what, i)
		out[i] = h
	}
	return out
}

func b64s(b []byte) string { return b64.EncodeToString(b) }

// ---- checkpoints (C2SP tlog-checkpoint v1.0.0 inside a C2SP signed note) ----

type checkpoint struct {
	raw  []byte
	size int64
	root tlog.Hash
}

// openCheckpoint verifies the signature with note.Open and parses the body strictly:
// "<origin>\n<size>\n<base64 root>\n", no extension lines, exactly one signature line by the
// trusted key, LF only, and the whole note byte-exact. Signature lines by other keys of the same
// name are allowed, as C2SP signed-note says: during a key rotation the log co-signs with its
// incoming key.
func openCheckpoint(raw []byte, v note.Verifier) (cp checkpoint, err error) {
	cp.raw = raw
	n, err := note.Open(raw, note.VerifierList(v))
	if err != nil {
		return cp, fmt.Errorf("note.Open: %v", err)
	}
	if len(n.Sigs) != 1 {
		return cp, fmt.Errorf("want exactly 1 signature by the trusted key, got %d", len(n.Sigs))
	}
	sigLines := map[string]bool{}
	for _, s := range append(n.Sigs, n.UnverifiedSigs...) {
		if s.Name != v.Name() {
			return cp, fmt.Errorf("signature by %q, not by the log's key name %q", s.Name, v.Name())
		}
		sigLines["\u2014 "+s.Name+" "+s.Base64] = true
	}
	sigs := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(raw), n.Text+"\n"), "\n"), "\n")
	if !strings.HasPrefix(string(raw), n.Text+"\n") || !strings.HasSuffix(string(raw), "\n") || len(sigs) != len(sigLines) {
		return cp, fmt.Errorf("note is not byte-exact: its text, a blank line and one line per signature")
	}
	for _, line := range sigs {
		if !sigLines[line] {
			return cp, fmt.Errorf("note is not byte-exact: signature line %q", line)
		}
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return cp, fmt.Errorf("body must be exactly origin, size, root lines (no extensions), got %q", n.Text)
	}
	if lines[0] != v.Name() {
		return cp, fmt.Errorf("origin line %q != key name %q", lines[0], v.Name())
	}
	if !decRe.MatchString(lines[1]) {
		return cp, fmt.Errorf("bad tree size %q", lines[1])
	}
	if cp.size, err = strconv.ParseInt(lines[1], 10, 64); err != nil {
		return cp, err
	}
	cp.root, err = decodeHash(lines[2])
	return cp, err
}

// ---- HTTP helpers ----

func getOK(path string) []byte {
	resp, err := client.Get(base + path)
	must(err, "GET %s", path)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(err, "GET %s: read body", path)
	if resp.StatusCode != 200 {
		fail("GET %s: HTTP %d: %.200s", path, resp.StatusCode, body)
	}
	return body
}

// decodeJSON decodes with json.Number for numbers, so integers are compared exactly.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// expect GETs a JSON object and checks that each field named in want has exactly that
// value and JSON type (json.Number for integers, string for strings).
func expect(path string, want map[string]any) map[string]any {
	var r map[string]any
	must(decodeJSON(getOK(path), &r), "GET %s: bad JSON", path)
	for k, w := range want {
		if r[k] != w {
			fail("GET %s: field %q is %.150q, want %.150q", path, k, fmt.Sprint(r[k]), fmt.Sprint(w))
		}
	}
	return r
}

func num(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

// ---- in-memory tlog "stored hashes" so TreeHash/ProveRecord/ProveTree work for any size ----

type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("stored hash %d not available", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func buildTree(leafHashes []tlog.Hash) (m memHashes) {
	for i, h := range leafHashes {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), h, m)
		must(err, "tlog.StoredHashesForRecordHash(%d)", i)
		m = append(m, hs...)
	}
	return m
}

// root is the RFC 6962 MTH of the first n leaves (SHA-256("") for n = 0; tlog would say zeros).
func (m memHashes) root(n int64) tlog.Hash {
	if n == 0 {
		return emptyRoot
	}
	h, err := tlog.TreeHash(n, m)
	must(err, "tlog.TreeHash(%d)", n)
	return h
}

// ---- live verification against the HTTP API ----

func verifyLog(logID, vkey string) {
	start := time.Now()
	v, err := note.NewVerifier(vkey)
	must(err, "note.NewVerifier(trusted vkey)")
	lp := "/logs/" + logID

	// 0. /logs and /vkey must publish exactly the trusted key.
	var logs []map[string]any
	must(decodeJSON(getOK("/logs"), &logs), "GET /logs: bad JSON")
	var listed map[string]any
	for _, l := range logs {
		if fmt.Sprint(l["id"]) == logID {
			listed = l
		}
	}
	if listed == nil || listed["vkey"] != vkey || listed["origin"] != v.Name() {
		fail("/logs entry for %q is %v, want origin %q and vkey %q", logID, listed, v.Name(), vkey)
	}
	if served := strings.TrimSuffix(string(getOK(lp+"/vkey")), "\n"); served != vkey {
		fail("served vkey %q != trusted vkey %q", served, vkey)
	}

	// 1. Latest checkpoint (its size N bounds everything below, even if the log grows meanwhile).
	latest, err := openCheckpoint(getOK(lp+"/checkpoint"), v)
	must(err, "latest checkpoint")
	N := latest.size
	if s, err := strconv.ParseInt(fmt.Sprint(listed["size"]), 10, 64); err != nil || s > N {
		fail("/logs size %v is not an integer <= latest checkpoint size %d", listed["size"], N)
	}

	// 2. Archived checkpoints, newest first, paged with before= (exclusive).
	var sizes []int64
	for before := int64(-1); ; {
		q := lp + "/checkpoints?limit=50"
		if before >= 0 {
			q += "&before=" + strconv.FormatInt(before, 10)
		}
		var page []struct{ Size *int64 }
		must(decodeJSON(getOK(q), &page), "GET %s: bad JSON", q)
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			if p.Size == nil || (before >= 0 && *p.Size >= before) {
				fail("GET %s: missing or out-of-order size %v", q, p.Size)
			}
			if before = *p.Size; before <= N { // skip ones signed after we fetched "latest"
				sizes = append([]int64{before}, sizes...)
			}
		}
	}
	if len(sizes) == 0 || sizes[len(sizes)-1] != N {
		fail("latest checkpoint size %d missing from /checkpoints listing", N)
	}
	cps := make([]checkpoint, len(sizes))
	for i, s := range sizes {
		cps[i], err = openCheckpoint(getOK(fmt.Sprintf("%s/checkpoint/%d", lp, s)), v)
		must(err, "checkpoint %d", s)
		if cps[i].size != s {
			fail("/checkpoint/%d returned a checkpoint of size %d", s, cps[i].size)
		}
	}
	if !bytes.Equal(cps[len(cps)-1].raw, latest.raw) {
		fail("/checkpoint/%d differs from /checkpoint (two notes for one size)", N)
	}
	// Consistency proofs between consecutive checkpoints, plus oldest non-empty -> latest.
	var pairs [][2]checkpoint
	for i := 0; i+1 < len(cps); i++ {
		pairs = append(pairs, [2]checkpoint{cps[i], cps[i+1]})
	}
	if len(cps) > 2 && cps[0].size > 0 {
		pairs = append(pairs, [2]checkpoint{cps[0], latest})
	}
	for _, pr := range pairs {
		o, n := pr[0], pr[1]
		q := fmt.Sprintf("%s/proof/consistency?old_size=%d&new_size=%d", lp, o.size, n.size)
		r := expect(q, map[string]any{"old_size": num(o.size), "new_size": num(n.size),
			"old_root": b64s(o.root[:]), "new_root": b64s(n.root[:]),
			"old_checkpoint": string(o.raw), "new_checkpoint": string(n.raw)})
		proof := hashList(q, r["proof"])
		if o.size == 0 && len(proof) != 0 {
			fail("%s: proof from the empty tree must be []", q)
		} else if o.size > 0 {
			must(tlog.CheckTree(proof, n.size, n.root, o.size, o.root), "tlog.CheckTree %d -> %d", o.size, n.size)
		}
	}

	// 3. All entries [0, N) in pages; leaf hashes; hash chain (5); every signed root recomputed.
	var leaves [][]byte
	for int64(len(leaves)) < N {
		q := fmt.Sprintf("%s/entries?start=%d&end=%d", lp, len(leaves), N)
		var r struct {
			Start     *int64
			LeavesB64 []string `json:"leaves_b64"`
		}
		must(decodeJSON(getOK(q), &r), "GET %s: bad JSON", q)
		if k := len(r.LeavesB64); r.Start == nil || *r.Start != int64(len(leaves)) || k == 0 || k > 1000 || int64(len(leaves)+k) > N {
			fail("GET %s: bad start or leaf count (%d leaves)", q, k)
		}
		for _, s := range r.LeavesB64 {
			b, err := b64.DecodeString(s)
			must(err, "GET %s: leaf %d base64", q, len(leaves))
			leaves = append(leaves, b)
		}
	}
	hashes := make([]tlog.Hash, N)
	prev := b64s(emptyRoot[:])
	for i, leaf := range leaves {
		hashes[i] = tlog.RecordHash(leaf)
		var obj map[string]any
		if err := decodeJSON(leaf, &obj); err != nil || obj == nil {
			fail("leaf %d is not a JSON object: %v", i, err)
		}
		if obj["seq"] != num(int64(i)) {
			fail("leaf %d: seq is %v", i, obj["seq"])
		}
		if obj["prev"] != prev {
			fail("leaf %d: hash chain broken: prev is %v, want %s", i, obj["prev"], prev)
		}
		prev = b64s(hashes[i][:])
	}
	tree := buildTree(hashes)
	for _, cp := range cps {
		if got := tree.root(cp.size); got != cp.root {
			fail("root of the first %d entries is %s, signed checkpoint says %s", cp.size, got, cp.root)
		}
	}

	// 4. Inclusion proofs for every index, or ~300 samples plus both ends and every checkpoint
	// boundary; each against the latest size and the oldest other checkpoint containing it.
	pick := map[int64]bool{}
	for i, step := int64(0), (N+299)/300; i < N; i += step {
		pick[i] = true
	}
	for _, cp := range cps {
		for _, i := range []int64{cp.size - 1, cp.size, N - 1} {
			if i >= 0 && i < N {
				pick[i] = true
			}
		}
	}
	nproofs := 0
	for i := range pick {
		older := checkpoint{}
		for k := len(cps) - 2; k >= 0 && cps[k].size > i; k-- {
			older = cps[k]
		}
		for _, cp := range []checkpoint{latest, older} {
			if cp.raw == nil { // no older checkpoint contains i
				continue
			}
			q := fmt.Sprintf("%s/proof/inclusion?index=%d&tree_size=%d", lp, i, cp.size)
			r := expect(q, map[string]any{"index": num(i), "tree_size": num(cp.size),
				"leaf_b64": b64s(leaves[i]), "leaf_hash": b64s(hashes[i][:]),
				"root_hash": b64s(cp.root[:]), "checkpoint": string(cp.raw)})
			err := tlog.CheckRecord(hashList(q, r["proof"]), cp.size, cp.root, i, hashes[i])
			must(err, "tlog.CheckRecord index %d, size %d", i, cp.size)
			nproofs++
		}
	}

	fmt.Printf("OK log=%s origin=%s size=%d root=%s\n", logID, v.Name(), N, latest.root)
	fmt.Printf("   %d signed checkpoints (roots recomputed), %d consistency proofs, %d entries "+
		"(hash chain), %d inclusion proofs, %.1fs\n",
		len(cps), len(pairs), N, nproofs, time.Since(start).Seconds())
}

// ---- -selftest: the known-answer vectors of spec §6, checked with the Go reference code ----

const (
	katName = "ledger.example.org/volunteer-hours"
	katSeed = "00f8d4b5e48754c133f071ce32645ea7a85b5d487217c97930b588da9aed2641"
	katVkey = katName + "+49027ea8+AdVChjjyF4YlXLEInYB7offfV/OgGE1e7UMxNzbnEILi"
	katNote = katName + "\n5\nJf2js5qgaCgg6QlnEaO87HfN3zIKbGizHH4BX6QtFK0=\n\n\u2014 " + katName +
		" SQJ+qGkKAh/jC5qdPnu69OSrEbPqlNSRUXjZNau0mrcZCIea7oTHVFRDP2f54QMyiYkA7Gy/jP4hA6OGTFTZLBtIhAo=\n"
)

var (
	katLeaves = []string{
		`{"date":"2024-05-01","minutes":60,"seq":0,"service":"助餐","v":1,"volunteer":"vol-001"}`,
		`{"date":"2024-05-01","minutes":45,"seq":1,"service":"探访","v":1,"volunteer":"vol-002"}`,
		`{"date":"2024-05-02","minutes":90,"seq":2,"service":"助洁","v":1,"volunteer":"vol-001"}`,
		`{"date":"2024-05-03","minutes":30,"seq":3,"service":"助浴","v":1,"volunteer":"vol-003"}`,
		`{"date":"2024-05-03","minutes":60,"seq":4,"service":"助餐","v":1,"volunteer":"vol-002"}`,
	}
	katRoots = []string{"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "RSvovyoL1EhSIITGDl52KrD2g8vIVJQKSNbC+q17ir4=",
		"eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=", "k+QXUDLtQmjeeH8qYstdudkSIxt7lrywbJRIZMK5DYk=",
		"i1yBbLDc5RUeFHT+er4c+L1WOUi1e9CiO2LQB4IMOSQ=", "Jf2js5qgaCgg6QlnEaO87HfN3zIKbGizHH4BX6QtFK0="}
	katIncl = []string{"Op0GXX+LSKtggCzDZ0W0zle1AxlJzJNfo8F1X1BxziY=", "eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=",
		"sOzIUwBPdjj/R4dgDULjQIyOMFcQcFwtPp0yOHQ4RMM="}
	katCons = []string{"yvgP6yoXhfnVRWHvaLVGeH+migmTwfAtghKVKq8A5bE=", "Op0GXX+LSKtggCzDZ0W0zle1AxlJzJNfo8F1X1BxziY=",
		"eVyi4cpXwSZpcfc+zqgYsw/ZZ1TopCH6a69SoLtTx9c=", "sOzIUwBPdjj/R4dgDULjQIyOMFcQcFwtPp0yOHQ4RMM="}
	rfcLeaves = []string{"", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"}
	rfcRoot8  = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
)

// selftest reports every disagreement (with what Go computes) instead of stopping at the first.
func selftest() {
	bad := 0
	check := func(ok bool, what string, goValue any) {
		if ok {
			fmt.Println("ok   " + what)
		} else {
			bad++
			fmt.Fprintf(os.Stderr, "FAIL: %s: Go computes %v\n", what, goValue)
		}
	}
	specHashes := func(list []string) (out []tlog.Hash) {
		for _, s := range list {
			h, err := decodeHash(s)
			must(err, "spec vector")
			out = append(out, h)
		}
		return out
	}
	join := func(hs []tlog.Hash) string {
		s := make([]string, len(hs))
		for i, h := range hs {
			s[i] = h.String()
		}
		return strings.Join(s, ", ")
	}
	// Keys: the vkey derived from the seed must equal the spec's, and note.NewVerifier must accept it.
	seed, _ := hex.DecodeString(katSeed)
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	goVkey, err := note.NewEd25519VerifierKey(katName, pub)
	check(err == nil && goVkey == katVkey, "vkey derived from the seed (note.NewEd25519VerifierKey)", goVkey)
	v, err := note.NewVerifier(katVkey)
	must(err, "note.NewVerifier(spec vkey)")
	// Checkpoint: opens and parses strictly; re-signing the body with the seed gives the same bytes.
	cp, err := openCheckpoint([]byte(katNote), v)
	check(err == nil && cp.size == 5 && cp.root.String() == katRoots[5], "signed checkpoint (size 5) opens with note.Open", err)
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", katName, v.KeyHash(), b64.EncodeToString(append([]byte{1}, seed...)))
	signer, err := note.NewSigner(skey)
	must(err, "note.NewSigner")
	signed, err := note.Sign(&note.Note{Text: katName + "\n5\n" + katRoots[5] + "\n"}, signer)
	check(err == nil && string(signed) == katNote, "re-signed checkpoint is byte-identical (note.Sign)", fmt.Sprintf("%q", signed))
	// Roots 0..5 of the five leaves.
	var lh []tlog.Hash
	for _, l := range katLeaves {
		lh = append(lh, tlog.RecordHash([]byte(l)))
	}
	tree := buildTree(lh)
	for n := range katRoots {
		got := tree.root(int64(n))
		check(got.String() == katRoots[n], fmt.Sprintf("root of size %d", n), got)
	}
	// Inclusion proof index 2 in size 5: CheckRecord accepts it, and tlog.ProveRecord makes the same.
	incl := specHashes(katIncl)
	check(tlog.CheckRecord(incl, 5, tree.root(5), 2, lh[2]) == nil, "inclusion proof index 2, size 5 (tlog.CheckRecord)", "reject")
	goIncl, err := tlog.ProveRecord(5, 2, tree)
	check(err == nil && join(goIncl) == strings.Join(katIncl, ", "), "inclusion proof equals tlog.ProveRecord", join(goIncl))
	// Consistency proof 3 -> 5: CheckTree accepts it, and tlog.ProveTree makes the same.
	cons := specHashes(katCons)
	check(tlog.CheckTree(cons, 5, tree.root(5), 3, tree.root(3)) == nil, "consistency proof 3 -> 5 (tlog.CheckTree)", "reject")
	goCons, err := tlog.ProveTree(5, 3, tree)
	check(err == nil && join(goCons) == strings.Join(katCons, ", "), "consistency proof equals tlog.ProveTree", join(goCons))
	// RFC 6962 reference tree.
	var rh []tlog.Hash
	for _, l := range rfcLeaves {
		b, _ := hex.DecodeString(l)
		rh = append(rh, tlog.RecordHash(b))
	}
	got := buildTree(rh).root(8)
	check(hex.EncodeToString(got[:]) == rfcRoot8, "RFC 6962 reference tree root at size 8", hex.EncodeToString(got[:]))
	if bad > 0 {
		fail("%d known-answer check(s) disagree with golang.org/x/mod/sumdb", bad)
	}
	fmt.Println("selftest OK: spec §6 vectors agree with golang.org/x/mod/sumdb/{note,tlog}")
}

func main() {
	url := flag.String("url", "", "API base, e.g. http://127.0.0.1:5000/api/v1/ledger")
	logID := flag.String("log", "", "log id (as in GET /logs)")
	vkey := flag.String("vkey", "", "trusted verifier key <origin>+<keyid>+<base64>")
	self := flag.Bool("selftest", false, "check the spec §6 known-answer vectors and exit")
	one := flag.String("checkpoint", "", "only open this signed checkpoint file with -vkey and exit")
	flag.Parse()
	if *self {
		selftest()
		return
	}
	if *one != "" && *vkey != "" {
		v, err := note.NewVerifier(*vkey)
		must(err, "note.NewVerifier(trusted vkey)")
		raw, err := os.ReadFile(*one)
		must(err, "read %s", *one)
		cp, err := openCheckpoint(raw, v)
		must(err, "checkpoint %s", *one)
		fmt.Printf("OK checkpoint origin=%s size=%d root=%s\n", v.Name(), cp.size, b64s(cp.root[:]))
		return
	}
	if *url == "" || *logID == "" || *vkey == "" {
		flag.Usage()
		os.Exit(2)
	}
	base = strings.TrimSuffix(*url, "/")
	verifyLog(*logID, *vkey)
}
