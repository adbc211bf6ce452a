"""Latent needs customers state before buying, in their own words (en and zh).

Each need names the product types that satisfy it. The phrasings speak only
of the need: never the product, its brand, its category or its SKU
(``tests/test_demo_store.py`` checks every need-driven purchase for that).
``FOR_SOMEONE_ELSE`` lists the phrasings that say the purchase is for another
person (a present); those lines take gift wrapping more often.
"""

from __future__ import annotations

WINTER = (11, 12, 1, 2)
SUMMER = (5, 6, 7, 8)

# key, satisfying product types, months it arises in (None: any), English, Chinese
NEED_DATA: tuple[tuple[str, tuple[str, ...], tuple[int, ...] | None, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "dry_skin",
        ("face_cream",),
        WINTER,
        (
            "My skin gets really dry and tight once the cold weather starts.",
            "Every December my cheeks start flaking and feel rough.",
            "The radiators at the office leave my skin itchy and flaky.",
            "In the cold months my skin feels like sandpaper by noon.",
        ),
        (
            "一到冬天脸就干得起皮。",
            "冬天皮肤特别干，洗完脸就紧绷。",
            "办公室暖气太足，皮肤干得发痒。",
            "天一冷两颊就脱皮，摸起来很粗糙。",
        ),
    ),
    (
        "sun_exposure",
        ("sunscreen",),
        SUMMER,
        (
            "I'm going to the beach next week and I burn within minutes.",
            "I cycle to work and my nose and arms get red every summer day.",
            "We are heading to Sanya and I always come back peeling.",
            "I turn bright red after half an hour outdoors in July.",
        ),
        (
            "夏天一出门就被晒得通红。",
            "下周去三亚海边，我特别容易晒伤。",
            "每天骑车通勤，胳膊晒得脱皮。",
            "在外面待半小时脸就发烫发红。",
        ),
    ),
    (
        "jogger_gift",
        ("running_shoes", "fitness_tracker"),
        None,
        (
            "My father jogs ten kilometres every morning and his birthday is coming up.",
            "I want a gift for my dad, he has just signed up for his first marathon.",
            "My husband started jogging before work and I want to surprise him.",
            "A present for my brother, he trains for a half marathon every spring.",
        ),
        (
            "我爸每天早上都要晨跑十公里，他生日快到了想送点东西。",
            "想给老爸挑个礼物，他刚报名了人生第一个马拉松。",
            "老公最近每天上班前去慢跑，想给他个惊喜。",
            "弟弟每年春天都练半马，想送他个生日礼物。",
        ),
    ),
    (
        "cat_shedding",
        ("pet_brush",),
        None,
        (
            "My cat is leaving fur all over the sofa lately.",
            "Our long-haired cat sheds so much that my clothes are covered.",
            "There are clumps of cat fur everywhere since spring.",
            "My cat keeps coughing up furballs, she loses a lot of fur.",
        ),
        (
            "我家猫最近掉毛严重。",
            "家里的长毛猫掉毛太厉害，衣服上全是毛。",
            "开春以后沙发上到处都是猫毛。",
            "猫老是吐毛球，掉毛特别多。",
        ),
    ),
    (
        "newborn",
        ("diapers", "baby_wipes"),
        None,
        (
            "We are expecting our first child next month and have nothing ready.",
            "My sister just gave birth and I want to help with the essentials for the newborn.",
            "Our twins arrive in a few weeks, what do newborns go through fastest?",
            "My wife is due soon and we still need the everyday things for a newborn.",
        ),
        (
            "老婆下个月预产期，宝宝用的东西还没准备。",
            "姐姐刚生完宝宝，想帮她买点新生儿天天要用的。",
            "双胞胎过几周就出生了，新生儿最费的是什么？",
            "快生了，宝宝日常消耗的东西还没囤。",
        ),
    ),
    (
        "home_latte",
        ("espresso_machine",),
        None,
        (
            "I spend a fortune at the café every morning and want to make my own latte at home.",
            "I'd love to pull a proper shot at home instead of queueing at the café.",
            "My partner drinks three cappuccinos a day from the shop downstairs, it adds up.",
            "We want café-style cappuccinos at home on weekends.",
        ),
        (
            "每天早上在楼下买拿铁太贵了，想在家自己做。",
            "想在家也能做出店里那种浓缩和卡布奇诺。",
            "老公一天三杯楼下店里的美式，太费钱了。",
            "周末想在家自己拉花做澳白。",
        ),
    ),
    (
        "cold_room",
        ("heater",),
        WINTER,
        (
            "Our flat has no central radiator and the bedroom is freezing at night.",
            "My home office is so cold in December that my fingers go numb.",
            "The bathroom is icy in the mornings, my kids hate getting out of the shower.",
            "My parents' old flat gets bitterly cold after dark.",
        ),
        (
            "我家没有暖气，冬天晚上冷得睡不着。",
            "书房冬天太冷了，打字手指都冻僵。",
            "冬天早上卫生间冰冷，孩子洗完澡直哆嗦。",
            "爸妈老房子一到晚上就冷得不行。",
        ),
    ),
    (
        "hot_room",
        ("fan", "air_conditioner"),
        SUMMER,
        (
            "Our top-floor flat turns into an oven in July.",
            "I can't sleep at night, the bedroom stays at thirty degrees.",
            "The sun hits my study all afternoon and it is stifling in there.",
            "We just moved into a rental with nothing to beat the summer heat.",
        ),
        (
            "顶楼的房子一到七月就热得像蒸笼。",
            "晚上卧室三十度，热得根本睡不着。",
            "书房下午西晒，闷热得待不住。",
            "刚租的房子什么消暑的都没有，夏天太难熬。",
        ),
    ),
    (
        "home_documents",
        ("inkjet_printer", "laser_printer"),
        None,
        (
            "I'm working from home now and keep walking to the business centre for hard copies of contracts.",
            "My kids' school emails worksheets every week and they have to hand them in on Monday.",
            "I need hard copies of invoices for my shop every day.",
            "Every week I walk to the business centre for hard copies of tax forms, it's a hassle.",
        ),
        (
            "在家办公，经常要把合同弄成纸质的，老跑图文店太麻烦。",
            "孩子学校每周都发练习题，要在家弄成纸质的。",
            "开了个小店，每天都要出纸质单据。",
            "每周都跑去图文店弄报税表格，太不方便。",
        ),
    ),
    (
        "travel_shots",
        ("mirrorless", "action_cam"),
        None,
        (
            "We're going to Iceland and my mobile's shots always come out blurry at night.",
            "I want to film my diving trip in Bali properly this time.",
            "Our honeymoon is in Japan and I want shots we can print big.",
            "I've started taking landscape photography seriously and my mobile isn't enough.",
        ),
        (
            "下个月去新疆玩，想拍出好看的风景照，随手拍的总是糊。",
            "这次去巴厘岛潜水想好好录下来。",
            "蜜月去日本，想拍能放大冲印的照片。",
            "最近迷上拍风景，随手拍已经不够用了。",
        ),
    ),
    (
        "handset_safety",
        ("phone_case", "screen_protector"),
        None,
        (
            "I just got a new mobile and I'm terrified of dropping it.",
            "My mobile slipped out of my hand and the back cracked, I don't want that again.",
            "My son throws his handset in his school bag with his keys.",
            "The display of my last handset shattered after one fall.",
        ),
        (
            "刚换的新机，怕摔坏屏幕。",
            "上个机子一摔后盖就裂了，这次不想再这样。",
            "儿子总把机子和钥匙一起丢书包里。",
            "之前的屏幕掉一次就碎了，心疼死了。",
        ),
    ),
    (
        "shots_no_space",
        ("memory_card",),
        None,
        (
            "My shots stop saving halfway through a shoot, it says there's no room left.",
            "I film in 4K now and I run out of room after twenty minutes.",
            "On holiday I had to delete photos every evening to keep shooting.",
            "My drone footage fills everything up before the battery is even empty.",
        ),
        (
            "拍照拍到一半提示空间不足了。",
            "现在拍4K视频，二十分钟就满了。",
            "旅游时每天晚上都得删照片才能继续拍。",
            "无人机录像电池还没用完空间就满了。",
        ),
    ),
    (
        "student_device",
        ("laptop",),
        None,
        (
            "My daughter starts university in September and needs something for essays and coding.",
            "I'm going back to study and need something portable for lectures.",
            "My son's old desktop can't run his design software for college.",
            "I need something light to work on during business trips.",
        ),
        (
            "女儿九月上大学，写论文、上网课都需要。",
            "准备读在职研究生，上课需要一个便携的设备。",
            "儿子的旧台式机跑不动他学设计用的软件。",
            "经常出差，想要个轻薄的办公设备。",
        ),
    ),
    (
        "loud_commute",
        ("headphones", "earbuds"),
        None,
        (
            "The metro is so loud on my commute that I can't hear my podcasts.",
            "My open-plan office is noisy and I can't concentrate.",
            "I fly every week and the engine drone gives me a headache.",
            "My neighbours renovate all day and I work from home.",
        ),
        (
            "地铁上太吵了，听播客完全听不清。",
            "开放式办公室太吵，根本没法专心。",
            "每周都要坐飞机，发动机的轰鸣声吵得头疼。",
            "邻居天天装修，我在家上班快崩溃了。",
        ),
    ),
    (
        "new_puppy",
        ("dog_food",),
        None,
        (
            "We just adopted a puppy from the shelter.",
            "Our golden retriever is three months old and growing quickly.",
            "My vet says my dog needs a better diet for his joints.",
            "We brought home a little corgi last weekend.",
        ),
        (
            "刚领养了一只小狗。",
            "家里的金毛三个月大了，长得特别快。",
            "兽医说我家狗关节不好，要换换吃的。",
            "上周末抱回来一只小柯基。",
        ),
    ),
    (
        "dry_air",
        ("humidifier",),
        WINTER,
        (
            "The air in my bedroom is so dry once the radiators are on that I wake up with a sore throat.",
            "My lips crack and my nose bleeds when the radiators are on.",
            "My toddler coughs at night because the room air is so dry.",
            "Static shocks everywhere at home since November, the air is bone dry.",
        ),
        (
            "冬天屋里太干燥了，早上起来嗓子疼。",
            "开暖气以后嘴唇干裂，还流鼻血。",
            "孩子晚上咳嗽，屋里太干了。",
            "今年冬天家里到处静电，太干燥了。",
        ),
    ),
    (
        "oily_scalp",
        ("shampoo",),
        None,
        (
            "My scalp gets greasy by the afternoon even after washing every morning.",
            "My roots look flat and oily a few hours after I shower.",
            "I have dandruff and an itchy, greasy scalp.",
            "In summer my scalp gets oily so quickly it's embarrassing.",
        ),
        (
            "头皮特别容易出油，早上洗完下午就塌了。",
            "洗完澡没几个小时头顶就油了。",
            "头皮屑多，头皮又痒又油。",
            "夏天头皮出油太快，太尴尬了。",
        ),
    ),
    (
        "low_energy",
        ("vitamins", "fish_oil"),
        None,
        (
            "I've been feeling worn out and tired all the time with long office hours.",
            "I catch every cold going around the office this year.",
            "My mum is seventy and her doctor said she should support her heart and joints.",
            "I eat badly when work gets busy and I feel drained.",
        ),
        (
            "最近总是没精神，加班多，免疫力也差。",
            "今年办公室一有感冒我就中招。",
            "我妈七十了，医生说要注意心脏和关节。",
            "工作一忙就吃不好，整个人很疲惫。",
        ),
    ),
    (
        "kid_birthday",
        ("building_blocks", "board_game", "plush"),
        None,
        (
            "My nephew turns six next week and I have no idea what kids like these days.",
            "I need a birthday present for my daughter's best friend.",
            "We want something for family evenings that keeps the kids off screens.",
            "My niece loves making things with her hands and her birthday is on Saturday.",
        ),
        (
            "侄子下周六岁生日，不知道现在小朋友喜欢什么。",
            "女儿最好的朋友过生日，要准备个礼物。",
            "想找点全家晚上一起玩的，让孩子少看屏幕。",
            "外甥女喜欢自己拼拼搭搭，周六是她生日。",
        ),
    ),
    (
        "family_clothes",
        ("washer",),
        None,
        (
            "There are five of us at home and our old one broke, the clothes pile up every day.",
            "We just moved into a new flat and there's nothing to wash our clothes with.",
            "Our old twin-tub leaks and shakes the whole bathroom.",
            "With two toddlers I face piles of dirty clothes every day of the week.",
        ),
        (
            "家里五口人，旧的坏了，每天衣服堆成山。",
            "刚搬新家，脏衣服堆着没法处理。",
            "家里老的双缸的漏水，一转起来整个卫生间都在晃。",
            "两个小孩，每天都要洗好几桶衣服。",
        ),
    ),
    (
        "quick_meals",
        ("air_fryer",),
        None,
        (
            "I get home late and want crispy chips without a pot of oil.",
            "I'd like to make chips and chicken wings with less grease.",
            "Cooking for one after work takes too long and I hate deep frying.",
            "My kids love fried chicken but I want it healthier.",
        ),
        (
            "下班回家很晚，想少油做点炸鸡薯条。",
            "想在家做鸡翅薯条，但不想用那么多油。",
            "一个人下班做饭太费时间，又不想油炸。",
            "孩子爱吃炸鸡，想做得健康一点。",
        ),
    ),
    (
        "smoothies",
        ("blender",),
        None,
        (
            "I want to start making fruit smoothies and fresh juice in the mornings.",
            "My doctor told me to eat more vegetables and I can only manage them as a drink.",
            "I'd like to make fresh soy drinks at home for the family.",
            "We want frozen fruit drinks for the kids in summer.",
        ),
        (
            "想每天早上自己打果汁、豆浆。",
            "医生让我多吃蔬菜，我只能打成汁喝。",
            "想在家给家里人现做豆浆。",
            "夏天想给孩子做冰沙。",
        ),
    ),
    (
        "cold_commute",
        ("down_jacket", "wool_coat"),
        WINTER,
        (
            "I walk twenty minutes to work and the January wind goes right through me.",
            "I'm moving to Harbin in December and own nothing warm enough.",
            "Waiting for the bus in the morning, I'm frozen to the bone.",
            "My old parka lost its warmth and the cold season is here.",
        ),
        (
            "冬天走路上班二十分钟，风一吹就透了。",
            "十二月要搬去哈尔滨，没有够保暖的衣服。",
            "早上等公交冻得受不了。",
            "去年那件已经不保暖了，冬天又到了。",
        ),
    ),
    (
        "stiff_neck",
        ("pillow",),
        None,
        (
            "I wake up with a stiff neck every morning.",
            "My shoulders ache after sleeping, I think my head isn't supported.",
            "My physio says my sleeping position strains my neck.",
            "I toss and turn all night and my neck hurts.",
        ),
        (
            "每天早上起来脖子都僵硬酸痛。",
            "睡一觉起来肩膀酸，感觉头没托好。",
            "理疗师说我睡姿让颈椎很受累。",
            "整晚翻来覆去，起来脖子疼。",
        ),
    ),
    (
        "gym_start",
        ("protein", "yoga_mat"),
        None,
        (
            "I just signed up for the gym and want to build some muscle.",
            "I've started working out at home every evening.",
            "My trainer says I need more recovery after lifting.",
            "I'm trying to get in shape before my wedding.",
        ),
        (
            "刚办了健身卡，想增肌。",
            "开始每天晚上在家锻炼了。",
            "教练说我练完恢复跟不上。",
            "婚礼前想把身材练好。",
        ),
    ),
    (
        "dinner_cleanup",
        ("dishwasher",),
        None,
        (
            "Washing up after dinner for the whole family takes me an hour every night.",
            "My hands are cracked from doing the washing-up by hand.",
            "We host friends every weekend and the pile in the sink is endless.",
            "Nobody at home wants to do the washing-up, we argue every night.",
        ),
        (
            "每天晚饭后刷锅刷碗要一个小时。",
            "天天刷碗，手都裂了。",
            "周末常请朋友来吃饭，水槽里的碗永远刷不完。",
            "家里谁都不想刷碗，天天吵架。",
        ),
    ),
    (
        "wrist_ache",
        ("keyboard", "mouse"),
        None,
        (
            "My wrist aches after a whole day of typing at my desk.",
            "I code ten hours a day and my fingers are getting sore.",
            "My forearm hurts from clicking all day at work.",
            "The built-in touchpad gives me a sore hand by the evening.",
        ),
        (
            "每天打字一整天，手腕酸痛。",
            "一天写十个小时代码，手指都疼了。",
            "上班一直点来点去，小臂很酸。",
            "用触控板一天下来手很累。",
        ),
    ),
    (
        "bedtime_stories",
        ("picture_book",),
        None,
        (
            "My three-year-old wants a new story every night before sleep.",
            "I'm looking for something to read aloud with my toddler at bedtime.",
            "My son is learning to read and loves stories about animals.",
            "We want to build a bedtime reading habit with our daughter.",
        ),
        (
            "三岁的女儿每天睡前都要听故事。",
            "想找点睡前能和宝宝一起读的。",
            "儿子在学认字，特别喜欢动物的故事。",
            "想培养女儿睡前阅读的习惯。",
        ),
    ),
    (
        "soaked_hikes",
        ("rain_jacket",),
        None,
        (
            "We hike in the mountains most weekends and keep getting soaked.",
            "I commute by bike and it rains half the year here.",
            "Our trekking trip to Yunnan is in the rainy season.",
            "Every time it drizzles on the trail I come home drenched.",
        ),
        (
            "周末常去爬山，老是被雨淋透。",
            "每天骑车上班，这边半年都在下雨。",
            "去云南徒步正好赶上雨季。",
            "山里一下小雨，回家全身都湿了。",
        ),
    ),
    (
        "battery_out",
        ("power_bank", "charger"),
        None,
        (
            "My mobile dies by mid-afternoon when I'm out all day.",
            "On long trips my handset is always at five percent.",
            "Topping up my mobile takes hours and I'm always in a rush.",
            "I use maps all day for deliveries and run out of battery.",
        ),
        (
            "出门一整天，下午机子就没电了。",
            "出远门时电量总是只剩百分之五。",
            "每次补电都要好几个小时，我总是很赶。",
            "跑外卖整天开导航，电量撑不住。",
        ),
    ),
)

OPENERS = {
    "en": ("", "Hi, ", "Hello! ", "Good morning. ", "Hey there, ", "Quick question: "),
    "zh": ("", "你好，", "您好，", "请问一下，", "在吗？"),
}
CLOSERS = {
    "en": (
        "",
        " Any ideas?",
        " What would you suggest?",
        " Can you point me to something?",
        " What do you have for that?",
        " Thanks in advance.",
    ),
    "zh": ("", "有什么推荐吗？", "有合适的吗？", "能帮我看看吗？", "求推荐。"),
}

# Phrasings (above) that say the purchase is for another person: a present.
FOR_SOMEONE_ELSE: frozenset[str] = frozenset(
    {
        "My father jogs ten kilometres every morning and his birthday is coming up.",
        "I want a gift for my dad, he has just signed up for his first marathon.",
        "My husband started jogging before work and I want to surprise him.",
        "A present for my brother, he trains for a half marathon every spring.",
        "我爸每天早上都要晨跑十公里，他生日快到了想送点东西。",
        "想给老爸挑个礼物，他刚报名了人生第一个马拉松。",
        "老公最近每天上班前去慢跑，想给他个惊喜。",
        "弟弟每年春天都练半马，想送他个生日礼物。",
        "My nephew turns six next week and I have no idea what kids like these days.",
        "I need a birthday present for my daughter's best friend.",
        "My niece loves making things with her hands and her birthday is on Saturday.",
        "侄子下周六岁生日，不知道现在小朋友喜欢什么。",
        "女儿最好的朋友过生日，要准备个礼物。",
        "外甥女喜欢自己拼拼搭搭，周六是她生日。",
        "My sister just gave birth and I want to help with the essentials for the newborn.",
        "姐姐刚生完宝宝，想帮她买点新生儿天天要用的。",
        "My daughter starts university in September and needs something for essays and coding.",
        "My son's old desktop can't run his design software for college.",
        "女儿九月上大学，写论文、上网课都需要。",
        "儿子的旧台式机跑不动他学设计用的软件。",
        "My mum is seventy and her doctor said she should support her heart and joints.",
        "我妈七十了，医生说要注意心脏和关节。",
        "My parents' old flat gets bitterly cold after dark.",
        "爸妈老房子一到晚上就冷得不行。",
    }
)
