"""Generated people for the demo: names, phones, addresses and ID numbers that look real but are
made up (a seeded random generator; ID numbers carry a valid check digit, phones a real prefix)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from .people import ID_WEIGHTS

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_F = "秀英华丽敏静芳娟霞燕红玲桂兰梅琴云莲凤洁雪慧佳颖欣怡婷倩蕾"
GIVEN_M = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆晨阳博文志国建"
PHONE_PREFIXES = ("133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "177", "180",
                  "181", "186", "187", "188", "189", "199")
ROADS = ("解放路", "人民路", "海连路", "朝阳路", "通灌路", "新浦路", "幸福路", "建设路", "花果山大道", "郁洲路")


class DemoPeople:
    """A reproducible source of made-up personal details."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def sex(self) -> str:
        return self.rng.choice("FM")

    def name(self, sex: str) -> str:
        given = GIVEN_F if sex == "F" else GIVEN_M
        length = self.rng.choice((1, 2, 2))
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(given) for _ in range(length))

    def phone(self) -> str:
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def birth(self, youngest: int, oldest: int, today: date) -> date:
        days = self.rng.randrange(youngest * 365, oldest * 365)
        return today - timedelta(days=days)

    def id_number(self, area: str, birth: date, sex: str) -> str:
        """An 18-character ID with a valid check digit; the sequence digit's parity matches `sex`."""
        self.serial += 1
        seq = (self.serial * 2 + (1 if sex == "M" else 0)) % 1000
        body = f"{area}{birth:%Y%m%d}{seq:03d}"
        return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]

    def address(self, community: str) -> str:
        return (f"{community}{self.rng.choice(ROADS)}{self.rng.randrange(1, 300)}号"
                f"{self.rng.randrange(1, 30)}栋{self.rng.randrange(1, 6)}单元{self.rng.randrange(101, 1802)}室")
