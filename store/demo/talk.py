"""Ordinary customer-service talk: where is my parcel, returns, complaints, ..."""

from __future__ import annotations

import random

# topic -> language -> templates; ``{order}`` is the order number.
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "delivery_status": {
        "en": (
            "Where is my parcel? Order {order} was shipped days ago.",
            "Hi, can you tell me when order {order} will arrive?",
            "The tracking for {order} hasn't moved since yesterday, is it lost?",
            "Is order {order} still on its way? I need it by the weekend.",
        ),
        "zh": (
            "我的快递到哪了？订单{order}好几天前就发货了。",
            "你好，订单{order}什么时候能到？",
            "{order}的物流从昨天起就没更新了，是不是丢了？",
            "订单{order}还在路上吗？周末前要用。",
        ),
    },
    "late_delivery": {
        "en": (
            "Order {order} arrived days later than promised, this is really disappointing.",
            "I paid for fast delivery on {order} and it came almost a week late.",
            "Complaint: {order} was late and nobody told me anything.",
        ),
        "zh": (
            "订单{order}比承诺的晚了好几天才到，太失望了。",
            "{order}我选的是快递，结果晚了快一周。",
            "投诉：{order}延迟送达，也没人通知我。",
        ),
    },
    "return_request": {
        "en": (
            "How do I return an item from order {order}? It doesn't fit.",
            "I'd like to send back part of order {order}, it's not what I expected.",
            "Can I return {order}? I changed my mind.",
        ),
        "zh": (
            "订单{order}里的东西不合适，怎么退货？",
            "{order}和预期不一样，想退掉一件。",
            "订单{order}我不想要了，可以退吗？",
        ),
    },
    "damaged_item": {
        "en": (
            "The box of order {order} was crushed and the item inside is broken.",
            "Order {order} arrived damaged, what can you do?",
        ),
        "zh": (
            "订单{order}的箱子被压坏了，里面的东西也坏了。",
            "{order}收到就是坏的，怎么处理？",
        ),
    },
    "invoice": {
        "en": ("Could you send me a VAT invoice for order {order}?", "I need a receipt for {order} for my company."),
        "zh": ("麻烦给订单{order}开一张增值税发票。", "{order}需要开公司抬头的发票。"),
    },
    "change_address": {
        "en": (
            "I moved last week, can you change the delivery address of {order}?",
            "Please deliver {order} to my office instead.",
        ),
        "zh": ("我上周搬家了，订单{order}能改地址吗？", "{order}请改送到我公司。"),
    },
    "cancel_order": {
        "en": (
            "Please cancel order {order}, I ordered by mistake.",
            "I found it cheaper elsewhere, cancel {order} please.",
        ),
        "zh": ("请取消订单{order}，下错单了。", "{order}不要了，帮我取消。"),
    },
    "installation": {
        "en": (
            "When will the installer come for order {order}?",
            "Can the installation for {order} be moved to Saturday?",
        ),
        "zh": ("订单{order}的安装师傅什么时候上门？", "{order}的安装能改到周六吗？"),
    },
    "general": {
        "en": (
            "How do loyalty points work in your shop?",
            "Do you deliver to the suburbs on weekends?",
            "How can I change the email on my account?",
            "What are your customer service hours?",
        ),
        "zh": ("你们的积分怎么用？", "周末能送到郊区吗？", "账号的邮箱怎么改？", "客服几点上班？"),
    },
}

# Outcomes a topic can end with, first the most common.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "delivery_status": ("resolved", "resolved", "escalated"),
    "late_delivery": ("make_good_coupon", "apologised"),
    "return_request": ("refunded",),
    "damaged_item": ("refunded", "replaced"),
    "invoice": ("resolved",),
    "change_address": ("resolved", "too_late"),
    "cancel_order": ("cancelled",),
    "installation": ("scheduled",),
    "general": ("answered",),
}


def service_text(rng: random.Random, topic: str, language: str, order_number: str = "") -> str:
    """A customer's message on ``topic`` in ``language`` about ``order_number``."""
    return rng.choice(TEMPLATES[topic][language]).format(order=order_number)


def outcome_for(rng: random.Random, topic: str) -> str:
    """How a consultation on ``topic`` ended."""
    return rng.choice(OUTCOMES[topic])
