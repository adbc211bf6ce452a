"""The message catalog (English and Chinese) and the choice of language.

Every text a customer sees lives in ``MESSAGES``, with an ``en`` and a ``zh``
form for each key (a test checks this). ``choose_language`` applies the
contract: Chinese when the message is mostly Chinese, English when it is
clearly Latin text, otherwise the ``lang`` slot, the customer's profile
language, then English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_ORDER_NUMBER = re.compile(r"(?i)(?<![A-Za-z0-9])SO\d{8}(?!\d)")

MESSAGES: dict[str, dict[str, str]] = {
    # --- shared ---
    "input.too_long": {
        "en": "That message is longer than I can read ({limit} characters at most). "
        "Could you tell me in a sentence or two what you need?",
        "zh": "这条消息太长了，我最多只能读 {limit} 个字符。能用一两句话告诉我您需要什么吗？",
    },
    "error.database": {
        "en": "Sorry, something went wrong on our side. Please try again in a moment.",
        "zh": "抱歉，我们这边出了点问题，请稍后再试。",
    },
    "sign_in": {
        "en": "Please sign in to your account first, then ask me again.",
        "zh": "请先登录您的账户，然后再问我一次。",
    },
    "menu.order_status": {"en": "Where is my order?", "zh": "我的订单到哪了？"},
    "menu.recommend": {"en": "Recommend something", "zh": "给我推荐商品"},
    "menu.returns": {"en": "Returns", "zh": "退货"},
    "menu.delivery": {"en": "Delivery", "zh": "配送"},
    "menu.human": {"en": "Talk to a person", "zh": "转人工客服"},
    "list.separator": {"en": ", ", "zh": "、"},
    # --- small talk ---
    "greet.named": {
        "en": "Hi {name}! How can I help you today?",
        "zh": "{name}，您好！今天有什么可以帮您？",
    },
    "greet.anonymous": {
        "en": "Hi! I'm the shop assistant. I can help with orders, delivery, returns, products and recommendations.",
        "zh": "您好！我是店铺助手，可以帮您查订单、配送、退货、商品信息，也可以为您推荐商品。",
    },
    "thank": {"en": "You're welcome! Anything else I can do for you?", "zh": "不客气！还有什么可以帮您？"},
    "goodbye": {"en": "Goodbye, and thanks for shopping with us!", "zh": "再见，感谢您的光临！"},
    "out_of_scope": {
        "en": "Sorry, I can only help with our shop: orders, delivery, returns, products and recommendations.",
        "zh": "抱歉，我只能回答与本店有关的问题：订单、配送、退货、商品和推荐。",
    },
    "fallback": {
        "en": "Sorry, I didn't understand that. Here is what I can help with:",
        "zh": "抱歉，我没听懂。我可以帮您处理这些事情：",
    },
    # --- orders ---
    "order.anonymous": {
        "en": "Please sign in so I can look up your orders; "
        "I can't show order details to visitors who are not signed in.",
        "zh": "请先登录，我才能查询您的订单；未登录的访客无法查看订单详情。",
    },
    "order.none": {"en": "I can't find any orders on your account yet.", "zh": "您的账户里还没有订单。"},
    "order.not_found": {
        # The number is not echoed: the reply must read the same whoever owns it.
        "en": "I can't find that order on your account. Please check the number, or ask about your latest order.",
        "zh": "在您的账户中找不到这个订单。请核对订单号，或者直接问我最近的订单。",
    },
    "order.summary": {
        "en": "Order {number}, placed on {placed}: {status}.",
        "zh": "订单 {number}（下单日期 {placed}）：{status}。",
    },
    "order.shipped": {
        "en": "Shipped on {date} with {carrier}, tracking number {tracking}.",
        "zh": "已于 {date} 由 {carrier} 发出，运单号 {tracking}。",
    },
    "order.delivered": {"en": "Delivered on {date}.", "zh": "已于 {date} 送达。"},
    "order.lines": {"en": "Items: {lines}.", "zh": "商品：{lines}。"},
    "order.line": {"en": "{quantity} x {name}", "zh": "{name} x {quantity}"},
    "order.status.paid": {"en": "paid, being prepared", "zh": "已付款，正在备货"},
    "order.status.shipped": {"en": "shipped, on its way", "zh": "已发货，运输中"},
    "order.status.delivered": {"en": "delivered", "zh": "已送达"},
    "order.status.returned": {"en": "returned", "zh": "已退货"},
    "order.status.cancelled": {"en": "cancelled", "zh": "已取消"},
    # --- delivery ---
    "delivery.intro": {"en": "Our delivery options:", "zh": "我们的配送方式："},
    "delivery.method": {
        "en": "{name}: {days_min}-{days_max} days, fee {fee}",
        "zh": "{name}：{days_min}-{days_max} 天，运费 {fee}",
    },
    "delivery.free_over": {"en": " (free on orders over {amount})", "zh": "（订单满 {amount} 免运费）"},
    "delivery.none": {
        "en": "I don't have delivery details right now; a person from our team can help.",
        "zh": "暂时没有配送信息，我们的客服可以帮您。",
    },
    # --- returns ---
    "return.policy": {
        "en": "You can return an item within {days} days of delivery, if it is in its original condition. "
        "The refund goes back to your original payment method once we receive the item.",
        "zh": "商品送达后 {days} 天内、保持原状即可退货。我们收到商品后，退款会原路退回。",
    },
    "return.start_button": {"en": "Start a return", "zh": "申请退货"},
    "return.anonymous": {
        "en": "Please sign in first so I can see which of your items can be returned.",
        "zh": "请先登录，我才能查看您哪些商品可以退货。",
    },
    "return.none_eligible": {
        "en": "None of your items can be returned right now (returns are possible within {days} days of delivery).",
        "zh": "您目前没有可退货的商品（商品送达后 {days} 天内可退货）。",
    },
    "return.ask_line": {"en": "Which item would you like to return?", "zh": "您想退哪件商品？"},
    "return.line_option": {
        "en": "{n}. {name} (order {order}, delivered {date})",
        "zh": "{n}. {name}（订单 {order}，{date} 送达）",
    },
    "return.line_invalid": {
        "en": "That item can't be returned: it is not on your account or not eligible for a return. "
        "Please pick one from the list.",
        "zh": "这件商品无法退货：它不在您的账户中，或不符合退货条件。请从列表中选择。",
    },
    "return.line_unclear": {
        "en": "I couldn't tell which item you mean. Please pick one of the buttons or type its number.",
        "zh": "我没能确定您指的是哪件商品。请点击按钮，或输入它的序号。",
    },
    "return.ask_reason": {
        "en": "Why are you returning {name}? A short reason is enough.",
        "zh": "请简单说一下退回 {name} 的原因。",
    },
    "return.this_item": {"en": "this item", "zh": "这件商品"},
    "return.reason_invalid": {
        "en": "Please give a reason between {min} and {max} characters.",
        "zh": "请填写 {min} 到 {max} 个字的退货原因。",
    },
    "return.submitted": {
        "en": "Your return of {name} is registered (reference {reference}). "
        "We'll send you the return instructions by email.",
        "zh": "{name} 的退货申请已登记（编号 {reference}）。我们会通过邮件把退货说明发给您。",
    },
    "return.already": {
        "en": "A return of {name} was already requested (reference {reference}); nothing new was created.",
        "zh": "{name} 已经申请过退货（编号 {reference}），没有重复创建。",
    },
    "return.no_longer": {
        "en": "Sorry, that item can no longer be returned, so nothing was created.",
        "zh": "抱歉，这件商品已不能退货，因此没有创建退货申请。",
    },
    "return.cancelled": {
        "en": "OK, I've stopped the return. Nothing was changed.",
        "zh": "好的，已取消退货申请，什么都没有改动。",
    },
    # --- products ---
    "product.ask_name": {
        "en": "Which product would you like to know about? Tell me its name.",
        "zh": "您想了解哪件商品？请告诉我商品名称。",
    },
    "product.found": {"en": "{name}: {price}. {stock}.", "zh": "{name}：{price}。{stock}。"},
    "product.in_stock": {"en": "In stock ({count} available)", "zh": "有货（库存 {count} 件）"},
    "product.out_of_stock": {"en": "Out of stock at the moment", "zh": "暂时缺货"},
    "product.brand": {"en": "Brand: {brand}.", "zh": "品牌：{brand}。"},
    "product.details": {"en": "Details: {details}.", "zh": "参数：{details}。"},
    "product.which": {
        "en": "I found several products. Which one do you mean?",
        "zh": "找到了几件相近的商品，您指的是哪一件？",
    },
    "product.choice_payload": {"en": "price of {name}", "zh": "{name}多少钱"},
    "product.none": {
        "en": "I couldn't find a product by that name. "
        "Try its exact name or SKU, or search our catalog on the website.",
        "zh": "没有找到这个名称的商品。请试试准确的商品名或货号，或在网站上搜索商品目录。",
    },
    # --- recommendations ---
    "rec.picks": {"en": "Picked for you{category}{budget}:", "zh": "为您挑选的{category}商品{budget}："},
    "rec.ideas": {"en": "Some ideas{category}{budget}:", "zh": "为您找到的{category}商品{budget}："},
    "rec.similar": {"en": "More like {name}:", "zh": "和{name}类似的商品："},
    "rec.category": {"en": " in {name}", "zh": "{name}类"},
    "rec.budget": {"en": " under {amount}", "zh": "（{amount}以内）"},
    "rec.card": {"en": "{rank}. {name} - {price}\n{reason}", "zh": "{rank}. {name} - {price}\n{reason}"},
    "rec.more_like_this": {"en": "More like this", "zh": "看看类似的"},
    "rec.not_interested": {"en": "Not interested", "zh": "不感兴趣"},
    "rec.view": {"en": "View product", "zh": "查看商品"},
    "rec.sign_in": {
        "en": "Sign in and I can pick from what you've bought and asked us before.",
        "zh": "登录后，我可以根据您的购买和咨询记录为您挑选。",
    },
    "rec.dismissed": {
        "en": "Got it, I won't suggest {name} again.",
        "zh": "好的，以后不再向您推荐{name}。",
    },
    "rec.unknown_item": {
        "en": "I couldn't find that product any more. Would you like other suggestions?",
        "zh": "找不到这件商品了。需要我推荐其他商品吗？",
    },
    "reason.bought": {"en": "Because you bought {subject} ({date})", "zh": "因为您在 {date} 购买了{subject}"},
    "reason.said": {"en": "Because you told us: \"{subject}\" ({date})", "zh": "因为您曾提到：“{subject}”（{date}）"},
    "reason.conversation": {"en": "Fits what you asked for just now", "zh": "符合您刚才说的需求"},
    "reason.model": {"en": "Picked from your purchase history", "zh": "根据您的购买记录挑选"},
    "reason.model_anonymous": {"en": "Fits what you asked for", "zh": "符合您的需求"},
    "reason.co_purchase": {"en": "Often bought with your {subject}", "zh": "常与您买过的{subject}一起购买"},
    "reason.bestseller": {"en": "A best seller right now", "zh": "近期畅销"},
    "reason.in_stock": {"en": "In stock now", "zh": "现货"},
    "rec.none": {
        "en": "I couldn't find products in stock matching that. Try another category or a larger budget.",
        "zh": "没有找到符合条件且有货的商品。换个品类或提高预算试试？",
    },
    # --- coupons ---
    "coupon.anonymous": {"en": "Sign in to see the coupons you can use.", "zh": "登录后即可查看您可用的优惠券。"},
    "coupon.none": {"en": "There are no coupons available to you right now.", "zh": "您目前没有可用的优惠券。"},
    "coupon.percent": {
        "en": "{name} (code {code}): {value}% off{min_spend}, valid until {until}",
        "zh": "{name}（券码 {code}）：{value}% 折扣{min_spend}，有效期至 {until}",
    },
    "coupon.amount": {
        "en": "{name} (code {code}): {value} off{min_spend}, valid until {until}",
        "zh": "{name}（券码 {code}）：立减 {value}{min_spend}，有效期至 {until}",
    },
    "coupon.min_spend": {"en": " on orders over {amount}", "zh": "，满 {amount} 可用"},
    "coupon.granted": {
        "en": "I've added this coupon to your account:",
        "zh": "已为您领取这张优惠券，放在您的账户里：",
    },
    "coupon.already": {
        "en": "This coupon is already in your account from earlier in our chat:",
        "zh": "本次对话中已为您领取过这张优惠券：",
    },
    "coupon.make_good": {
        "en": "To make up for the trouble, I've added a coupon to your account:",
        "zh": "为表歉意，已为您的账户添加一张优惠券：",
    },
    # --- services ---
    "service.owned": {"en": "Services for products you own:", "zh": "适用于您已购商品的服务："},
    "service.category": {"en": "Services for {name}:", "zh": "{name}类商品的服务："},
    "service.general": {"en": "Our services:", "zh": "我们提供的服务："},
    "service.item": {"en": "{name} - {price}", "zh": "{name} - {price}"},
    "service.none": {"en": "I couldn't find a service that fits.", "zh": "没有找到合适的服务。"},
    "service.for_product": {"en": "{name} - {price} (for your {product})", "zh": "{name} - {price}（适用于您的{product}）"},
    "service.after_delivery": {
        "en": "Now that it has arrived, these services can help with your {product}:",
        "zh": "商品已送达，以下服务可以帮您更好地使用{product}：",
    },
    "service.sign_in_hint": {
        "en": "Sign in and I can show the services for the products you own.",
        "zh": "登录后，我可以为您列出已购商品适用的服务。",
    },
    # --- handoff ---
    "handoff.complaint": {"en": "I'm sorry about this.", "zh": "非常抱歉给您带来不便。"},
    "handoff.done": {
        "en": "I've passed this conversation to our team; a person will take over here. Our staff answer {hours}.",
        "zh": "我已将对话转给人工客服，稍后会有工作人员在这里接待您。人工客服时间：{hours}。",
    },
    # --- deletion ---
    "delete.confirm": {
        "en": "Do you want me to delete your data: your chat history, past consultations and recommendation history? "
        "Orders and returns are kept for accounting. This cannot be undone.",
        "zh": "确定要删除您的数据吗？包括聊天记录、历史咨询和推荐记录。"
        "订单和退货记录会依法保留用于财务。此操作无法撤销。",
    },
    "delete.yes": {"en": "Yes, delete my data", "zh": "是的，删除我的数据"},
    "delete.no": {"en": "No, keep it", "zh": "不，保留"},
    "delete.done": {
        "en": "Done. Erased: past consultations {consultations}, recommendation records {recommendations}, "
        "handoff requests {handoffs}, other conversations {conversations} ({messages} stored messages). "
        "This conversation is erased too. Orders and returns are kept for accounting.",
        "zh": "已完成。已删除：历史咨询 {consultations} 条，推荐记录 {recommendations} 条，人工客服请求 {handoffs} 条，"
        "其他对话 {conversations} 个（{messages} 条消息）；本次对话也会一并删除。订单和退货记录依法保留。",
    },
    "delete.anonymous": {
        "en": "You are not signed in, so the only data I hold is this conversation: it is erased now. "
        "To erase your account's data, sign in and ask again.",
        "zh": "您尚未登录，我这里只有本次对话的数据，现已删除。如需删除账户数据，请登录后再次申请。",
    },
    "delete.cancelled": {"en": "OK, nothing was deleted.", "zh": "好的，没有删除任何数据。"},
    "delete.not_confirmed": {
        "en": "Nothing was deleted. If you want your data erased, say \"delete my data\" and confirm.",
        "zh": "没有删除任何数据。如需删除您的数据，请说“删除我的数据”并确认。",
    },
}


def t(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (English when unknown), formatted with ``values``."""
    forms = MESSAGES[key]
    template = forms.get(lang) or forms[DEFAULT_LANGUAGE]
    return template.format(**values) if values else template


def join(items: Iterable[str], lang: str) -> str:
    """Join list items with the separator of ``lang``."""
    return t("list.separator", lang).join(items)


def money(amount: Decimal | float | int, currency: str) -> str:
    """An amount with two decimals and the currency code."""
    return f"{Decimal(str(amount)):.2f} {currency}"


def day(value: datetime | None) -> str:
    """A date as ``YYYY-MM-DD`` (both languages read it)."""
    return value.strftime("%Y-%m-%d") if value else "-"


def detect_language(text: str) -> str | None:
    """``"zh"`` when the text is mostly Chinese, ``"en"`` when clearly Latin text, else ``None``.

    One CJK character weighs as much as one Latin word, so "推荐个礼物 for my
    dad" is Chinese. Button payloads ("/affirm"), numbers, emoji and one or
    two short Latin words ("ok") give no signal.
    """
    if not text or text.lstrip().startswith("/"):
        return None
    text = _ORDER_NUMBER.sub(" ", text)
    cjk = len(_CJK.findall(text))
    words = _LATIN_WORD.findall(text)
    if cjk and cjk >= len(words):
        return "zh"
    if len(words) >= 2 or sum(len(word) for word in words) >= 5:
        return "en"
    return None


def normalize_language(value: object) -> str | None:
    """``"en"``/``"zh"`` from a slot or profile value (``"zh-CN"`` counts), else ``None``."""
    if not isinstance(value, str):
        return None
    prefix = value.strip().lower()[:2]
    return prefix if prefix in LANGUAGES else None


def choose_language(text: str, slot_value: object = None, profile_language: object = None) -> str:
    """The reply language for a message under the contract above."""
    return (
        detect_language(text)
        or normalize_language(slot_value)
        or normalize_language(profile_language)
        or DEFAULT_LANGUAGE
    )
