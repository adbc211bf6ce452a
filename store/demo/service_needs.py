"""Service needs: what a customer says before an order with a service they tend to take.

Each need names the services (by code) it leads to. The phrasings state only
the underlying need, never the service, its kind or a near-synonym
("warranty", "installation", "wrapping", 延保, 安装, 包装, ...), nor a product,
brand, SKU or category of the catalog (``tests/test_demo_store.py`` checks
every phrasing against the services and the whole catalog).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from store.demo.needs import stated_in, vary

# key, service codes it leads to, English, Chinese
SERVICE_NEED_DATA: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "short_lived",
        ("WARRANTY_2Y", "WARRANTY_3Y_LARGE"),
        (
            "My last two gadgets died right after their first twelve months, I'm tired of paying to get things fixed.",
            "Everything I own seems to break just after the maker stops helping, and the bill is always huge.",
            "If this stops working after a while I don't want to pay for it out of my own pocket.",
            "A technician's visit cost me almost as much as buying new last time, never again.",
            "Our last one stopped working eighteen months in and fixing it cost a fortune.",
            "I'd rather pay a bit now than get a nasty surprise bill if it breaks later.",
            "I'm rough on my things and they tend to give up long before I'd like.",
        ),
        (
            "我之前买的两样东西都是刚过一年就坏了，修一次花了好多钱。",
            "东西坏了自己掏钱修太心疼了，这次想买个安心。",
            "我用东西比较费，总担心过几年就出毛病。",
            "上次坏了请师傅上门，光上门费就好几百。",
            "家里东西一坏就是一大笔开销，这次想省点心。",
            "上一台用了一年多就坏了，修的钱够买半台新的。",
            "我对这类东西没什么信心，总觉得用不了多久就会出问题。",
        ),
    ),
    (
        "scratches",
        ("SCREEN_FITTING",),
        (
            "I always end up with scratches on the display within a week.",
            "Every time I try to stick anything on it myself it ends up crooked with bubbles everywhere.",
            "My keys live in the same pocket and the display always gets marked.",
            "I'm clumsy with fiddly jobs, anything that needs lining up perfectly goes wrong for me.",
            "I want the display to stay spotless, I'm fussy about tiny marks.",
            "My hands shake a bit, I can't do delicate jobs like lining things up on a display.",
        ),
        (
            "我自己贴东西总是歪，还一堆气泡。",
            "我手笨，对不齐边，每次都弄得很难看。",
            "钥匙和它放一个兜里，没几天表面就全是划痕。",
            "我有点强迫症，看不得上面有一点划痕。",
            "以前自己弄过一次，灰尘全进去了，看着特别难受。",
            "我经常摔东西，最怕正面磕花了。",
        ),
    ),
    (
        "not_handy",
        ("INSTALL_LARGE", "INSTALL_AC"),
        (
            "I'm useless with tools, I get someone in for everything at home.",
            "I don't own a drill and I'd rather not learn on something this heavy.",
            "Last time I tried to connect something to the water pipes myself I flooded the bathroom.",
            "We live on the sixth floor with no lift and I have a bad back.",
            "I'd rather pay someone than spend a weekend swearing at instructions.",
            "Nobody in our family is handy, things just sit in the box for weeks.",
            "My husband says he can do it himself, but last time it took him three weekends.",
        ),
        (
            "我手很笨，家里的东西一般都请人来弄。",
            "家里连把电钻都没有，这么重的东西我们自己肯定搞不定。",
            "上次自己接水管把卫生间淹了，再也不敢自己弄了。",
            "老公说他能自己弄，结果上次折腾了三个周末。",
            "我一看说明书就头大，宁愿花钱找人。",
            "家里没人会弄这些，买回来只能放在箱子里。",
            "我们住六楼没电梯，我腰也不好，实在干不了这种活。",
        ),
    ),
    (
        "old_one_in_the_way",
        ("HAUL_AWAY",),
        (
            "Our old one is still standing in the hallway and I have no idea how to get rid of it.",
            "The new one goes exactly where the old one stands, and I can't carry that thing downstairs.",
            "There's no way I can take the old unit to the dump myself.",
            "The old one weighs a ton and we have no lift.",
            "I don't know what to do with the old one once the new one arrives.",
            "Our neighbourhood won't let us leave bulky things on the street.",
            "The broken one has been sitting on our balcony for months, it's an eyesore.",
        ),
        (
            "家里那台旧的太占地方了，新的来了不知道怎么处理旧的。",
            "旧的那台太重了，我们家没电梯，根本搬不下去。",
            "坏掉的那台在阳台上放了好几个月了，看着就烦。",
            "小区不让把大件东西随便放楼道里。",
            "新的到了以后，旧的我实在不知道该扔哪儿。",
            "老的那台还能凑合用，但留着也没地方放。",
        ),
    ),
    (
        "new_gadget_hassle",
        ("DEVICE_SETUP", "PRINTER_SETUP"),
        (
            "I'm hopeless with new gadgets, moving all my stuff over always takes me days.",
            "Last time I switched, I lost half my contacts and all the photos of my kids.",
            "Getting anything to talk to our home wifi is beyond me.",
            "I never know which buttons to push when something new arrives, I just want it ready to go.",
            "My mum gets me to sort out her gadgets and I'm no better at it than she is.",
            "The manuals make no sense to me, I'd like it working the day it comes.",
            "I spent a whole weekend last time trying to get everything connected and still failed.",
        ),
        (
            "我对新东西一窍不通，每次换了都要折腾好几天才能把东西都弄过去。",
            "上次换的时候把通讯录和孩子的照片都弄丢了。",
            "家里的网我怎么都连不上。",
            "说明书我完全看不懂，希望到手就能直接用。",
            "我岁数大了，新玩意儿拿到手不知道从哪开始弄。",
            "上次为了把各种东西连起来折腾了一整个周末，最后还是没弄好。",
        ),
    ),
    (
        "upkeep",
        ("AC_CLEANING", "COFFEE_DESCALING", "SENSOR_CLEANING"),
        (
            "The last one I owned got grimy inside and I never knew how to look after it.",
            "Our tap water is very hard and everything ends up crusted with chalk.",
            "After a couple of seasons ours started to smell musty and I had no idea what to do.",
            "I noticed specks on every shot and couldn't get rid of them.",
            "I'm not the type to take things apart to get the gunk out.",
            "I want someone to look after the inside of it now and then, I'd only break it.",
            "My last one slowly got worse because I never looked after the insides.",
        ),
        (
            "家里用了两季的那台一开就有股霉味，不知道怎么弄。",
            "我们这边水特别硬，东西用久了里面全是水垢。",
            "拍出来的照片上总有几个黑点，擦也擦不掉。",
            "里面脏了我也不敢拆，怕弄坏。",
            "上一台就是因为一直没打理，越用越差。",
            "我懒得自己拆开弄，希望隔段时间有人帮我打理一下。",
        ),
    ),
    (
        "looks_matter",
        ("GIFT_WRAP",),
        (
            "It's a present and I want it to look special when it's opened.",
            "I'm sending this straight to my sister for her birthday, I won't see it before she does.",
            "It's for a colleague who is leaving, and I'd like it to look nice when we hand it over.",
            "My niece will open it at her party with everyone watching.",
            "I never know how to make things look pretty for birthdays, it always ends up a mess.",
            "It's our anniversary next week and I want a proper surprise.",
            "I'm all thumbs when it comes to making things look nice for a celebration.",
        ),
        (
            "这是送人的，想拆开的时候有点仪式感。",
            "直接寄给我妹妹当生日惊喜，我自己见不到东西。",
            "同事要离职了，我们几个凑钱送她的。",
            "下周是我们结婚纪念日，想给对方一个惊喜。",
            "我手特别笨，每次过节送东西都弄得很难看。",
            "外甥过生日，想让他收到的时候开心一点。",
        ),
    ),
)

SERVICE_OPENERS = {
    "en": ("", "Hi, ", "Hello, ", "Before I check out: ", "One more thing: "),
    "zh": ("", "你好，", "您好，", "在吗？", "下单前问一下，"),
}
SERVICE_CLOSERS = {
    "en": ("", " Can you help with that?", " Is there anything you can do?", " What would you suggest?"),
    "zh": ("", "你们能帮忙吗？", "有什么办法吗？", "能帮我解决吗？", "有什么建议吗？"),
}


@dataclass(frozen=True)
class ServiceNeed:
    """Why a customer takes a service, and how they say it."""

    key: str
    services: tuple[str, ...]  # service codes
    phrases: dict[str, tuple[str, ...]]


SERVICE_NEEDS: tuple[ServiceNeed, ...] = tuple(
    ServiceNeed(key, services, {"en": en, "zh": zh}) for key, services, en, zh in SERVICE_NEED_DATA
)
SERVICE_NEED_OF_CODE: dict[str, ServiceNeed] = {code: need for need in SERVICE_NEEDS for code in need.services}


@dataclass
class ServiceStatement:
    """A consultation (``topic = service_advice``) in which the customer states a service need."""

    time: datetime
    text: str
    need: ServiceNeed
    channel: str


def service_statement(rng: random.Random, need: ServiceNeed, language: str) -> str:
    """One varied way a customer speaking ``language`` states ``need``."""
    return vary(rng, need.phrases, SERVICE_OPENERS, SERVICE_CLOSERS, language)


def service_need_of_text(text: str) -> ServiceNeed | None:
    """The service need a consultation text states, if it is a service statement."""
    return next((need for need in SERVICE_NEEDS if stated_in(text, chain.from_iterable(need.phrases.values()))), None)
