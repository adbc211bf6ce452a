"""The demo shop's assortment as plain data: categories, brands and product types.

Brands carry a price tier (0 budget, 1 mid-range, 2 premium) so that customers
can be loyal to a brand and to a price level. A product type with
``repurchase_days`` is a consumable; ``season`` makes it sell more in winter
or summer; ``complements`` are types bought with it or soon after.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CategorySpec:
    """A category and the brands that sell in it."""

    code: str
    name_en: str
    name_zh: str
    brands: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class TypeSpec:
    """A kind of product; the generator makes ``count`` products of it at scale 1."""

    key: str
    category: str
    name_en: str
    name_zh: str
    price: tuple[int, int]
    count: int
    repurchase_days: int | None = None
    season: str | None = None
    # The first attribute is shown in the product name.
    attrs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    complements: tuple[str, ...] = ()
    large: bool = False


def _b(*names: str) -> tuple[tuple[str, int], ...]:
    # Brands are listed cheapest first; spread them over the three tiers.
    return tuple((name, min(2, i * 3 // len(names))) for i, name in enumerate(names))


# fmt: off
# The tables below read best as tables.
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("coffee", "Coffee & Tea", "咖啡与茶", _b("Hillside", "Morrow Roasters", "Kaldi & Co", "Origine")),
    CategorySpec("coffee_machines", "Coffee Machines", "咖啡机", _b("Brewix", "Caffetto", "Volta", "Maranello")),
    CategorySpec("skincare", "Skincare", "护肤", _b("Dewy", "Lumiere", "Aqualis", "Maison Rive")),
    CategorySpec("haircare", "Hair Care", "洗护发", _b("Silka", "Nordhaar", "Kerasoft", "Atelier Capelli")),
    CategorySpec("baby", "Baby Care", "母婴", _b("Tinytot", "Bambou", "Softnest", "Petit Ange")),
    CategorySpec("pet", "Pet Supplies", "宠物用品", _b("Pawly", "Whiskerly", "Furtopia", "Royal Paws")),
    CategorySpec("printers", "Printers", "打印机", _b("Printa", "Inkora", "Lazeon")),
    CategorySpec("ink", "Ink & Paper", "墨盒与纸张", _b("Printa", "Inkora", "Lazeon")),
    CategorySpec("phones", "Phones", "手机", _b("Novaphone", "Zentek", "Orbis", "Aurelia")),
    CategorySpec("phone_acc", "Phone Accessories", "手机配件", _b("Guardly", "Voltix", "Shellcraft", "Armadillo")),
    CategorySpec("cameras", "Cameras", "相机", _b("Optiq", "Kestrel", "Lumix Pro", "Hasselnova")),
    CategorySpec("camera_acc", "Camera Accessories", "摄影配件", _b("Snapcore", "Trailpod", "Lowlight", "Peakform")),
    CategorySpec("laptops", "Laptops", "笔记本电脑", _b("Zentek", "Orbis", "Vectra", "Aurelia")),
    CategorySpec("computer_acc", "Computer Accessories", "电脑配件", _b("Clickr", "Keyhaus", "Ergon", "Logiform")),
    CategorySpec("audio", "Headphones & Audio", "耳机音响", _b("Sonix", "Beatline", "Quietude", "Harmonia")),
    CategorySpec("large_appliances", "Large Appliances", "大家电", _b("Homely", "Frostar", "Weissberg", "Miele Nord")),
    CategorySpec("kitchen", "Small Kitchen Appliances", "厨房小电", _b("Cookwell", "Zestia", "Vitablend", "Kochwerk")),
    CategorySpec("climate", "Heating & Cooling", "冷暖电器", _b("Breezy", "Thermex", "Airora", "Nordvind")),
    CategorySpec("outerwear", "Coats & Jackets", "外套", _b("Urbanite", "Northpeak", "Glacier", "Montclair")),
    CategorySpec("sports", "Sports & Running", "运动户外", _b("Stridex", "Pacer", "Velocita", "Summit")),
    CategorySpec("bedding", "Bedding", "床上用品", _b("Cozynest", "Dreamloft", "Silkhaven", "Le Lit")),
    CategorySpec("health", "Health & Supplements", "营养保健", _b("Vitalis", "Purelife", "Nutrimax", "Apotheca")),
    CategorySpec("cleaning", "Household Cleaning", "家居清洁", _b("Sparkla", "Fresha", "Purewash")),
    CategorySpec("toys", "Toys & Games", "玩具", _b("Playbox", "Brickwise", "Funhaus", "Wonderkin")),
    CategorySpec("books", "Books", "图书", _b("Pageturn Press", "Inkwell Books", "Lantern House")),
)

_COLOURS = ("black", "white", "grey", "navy", "green", "beige")
_SIZES = ("S", "M", "L", "XL")

TYPES: tuple[TypeSpec, ...] = (
    TypeSpec("coffee_beans", "coffee", "Roasted Coffee Beans", "烘焙咖啡豆", (45, 220), 14, 30,
             attrs={"weight_g": ("250", "500", "1000"), "roast": ("light", "medium", "dark")}),
    TypeSpec("tea", "coffee", "Loose Leaf Tea", "散装茶叶", (30, 300), 10, 45,
             attrs={"weight_g": ("100", "250"), "variety": ("green", "oolong", "jasmine")}),
    TypeSpec("coffee_capsules", "coffee", "Coffee Capsules", "咖啡胶囊", (40, 120), 8, 21,
             attrs={"pieces": ("10", "30", "50")}),
    TypeSpec("espresso_machine", "coffee_machines", "Espresso Machine", "意式咖啡机", (800, 6000), 10,
             attrs={"colour": _COLOURS[:3], "pressure_bar": ("15", "19")},
             complements=("coffee_beans", "milk_frother", "descaler")),
    TypeSpec("grinder", "coffee_machines", "Burr Grinder", "磨豆机", (200, 1500), 6,
             attrs={"colour": _COLOURS[:2]}, complements=("coffee_beans",)),
    TypeSpec("milk_frother", "coffee_machines", "Milk Frother", "奶泡机", (99, 499), 5,
             attrs={"colour": _COLOURS[:3]}),
    TypeSpec("face_cream", "skincare", "Barrier Repair Cream", "修护面霜", (89, 890), 12, 60, "winter",
             attrs={"volume_ml": ("50", "100"), "skin_type": ("dry", "sensitive", "combination")}),
    TypeSpec("sunscreen", "skincare", "Sunscreen SPF50", "防晒霜 SPF50", (69, 320), 10, 60, "summer",
             attrs={"volume_ml": ("30", "50"), "skin_type": ("oily", "sensitive", "normal")}),
    TypeSpec("serum", "skincare", "Vitamin C Serum", "维C精华液", (150, 1200), 8, 75,
             attrs={"volume_ml": ("15", "30")}),
    TypeSpec("cleanser", "skincare", "Gentle Cleanser", "温和洁面乳", (49, 260), 8, 50,
             attrs={"volume_ml": ("120", "200")}),
    TypeSpec("shampoo", "haircare", "Clarifying Shampoo", "清爽洗发水", (39, 199), 10, 45,
             attrs={"volume_ml": ("400", "750"), "hair_type": ("oily", "normal", "dry")}),
    TypeSpec("conditioner", "haircare", "Conditioner", "护发素", (39, 199), 8, 50,
             attrs={"volume_ml": ("400", "750")}),
    TypeSpec("hair_dryer", "haircare", "Ionic Hair Dryer", "负离子吹风机", (199, 1999), 6,
             attrs={"colour": _COLOURS[:3]}),
    TypeSpec("diapers", "baby", "Diapers", "纸尿裤", (89, 259), 12, 14,
             attrs={"size": ("NB", "S", "M", "L", "XL"), "pieces": ("60", "84")}),
    TypeSpec("baby_wipes", "baby", "Baby Wipes", "婴儿湿巾", (19, 69), 6, 21, attrs={"pieces": ("80", "240")}),
    TypeSpec("formula", "baby", "Infant Formula", "婴儿配方奶粉", (199, 499), 8, 18,
             attrs={"stage": ("1", "2", "3")}),
    TypeSpec("stroller", "baby", "Stroller", "婴儿推车", (899, 5999), 6, attrs={"colour": _COLOURS[:4]}),
    TypeSpec("cat_food", "pet", "Cat Food", "猫粮", (89, 399), 10, 30,
             attrs={"weight_kg": ("1.5", "4", "10"), "life_stage": ("kitten", "adult", "senior")}),
    TypeSpec("dog_food", "pet", "Dog Food", "狗粮", (99, 499), 10, 30,
             attrs={"weight_kg": ("2", "6", "12"), "life_stage": ("puppy", "adult", "senior")}),
    TypeSpec("cat_litter", "pet", "Cat Litter", "猫砂", (39, 129), 6, 20, attrs={"weight_kg": ("5", "10")}),
    TypeSpec("pet_brush", "pet", "Deshedding Brush", "宠物除毛梳", (39, 199), 6, attrs={"size": _SIZES[:3]}),
    TypeSpec("inkjet_printer", "printers", "Inkjet Printer", "喷墨打印机", (399, 1999), 8,
             attrs={"colour": _COLOURS[:2]}, complements=("ink_cartridge", "paper")),
    TypeSpec("laser_printer", "printers", "Laser Printer", "激光打印机", (899, 3999), 6,
             attrs={"colour": _COLOURS[:2]}, complements=("toner", "paper")),
    TypeSpec("ink_cartridge", "ink", "Ink Cartridge Set", "墨盒套装", (89, 399), 8, 90,
             attrs={"pieces": ("2", "4")}),
    TypeSpec("toner", "ink", "Toner Cartridge", "硒鼓", (199, 699), 6, 120, attrs={"pages": ("1500", "3000")}),
    TypeSpec("paper", "ink", "A4 Copy Paper", "A4复印纸", (25, 69), 4, 60, attrs={"sheets": ("500", "2500")}),
    TypeSpec("smartphone", "phones", "Smartphone", "智能手机", (999, 9999), 14,
             attrs={"storage_gb": ("128", "256", "512"), "colour": _COLOURS[:4]},
             complements=("phone_case", "charger", "screen_protector")),
    TypeSpec("phone_case", "phone_acc", "Phone Case", "手机壳", (39, 199), 10, attrs={"colour": _COLOURS}),
    TypeSpec("charger", "phone_acc", "Fast Charger", "快速充电器", (59, 299), 6, attrs={"watts": ("20", "65")}),
    TypeSpec("screen_protector", "phone_acc", "Tempered Glass", "钢化膜", (19, 99), 6, attrs={"pieces": ("1", "2")}),
    TypeSpec("power_bank", "phone_acc", "Power Bank", "移动电源", (99, 399), 6, attrs={"mah": ("10000", "20000")}),
    TypeSpec("mirrorless", "cameras", "Mirrorless Camera", "微单相机", (3999, 19999), 8,
             attrs={"megapixels": ("24", "33", "45")}, complements=("memory_card", "camera_bag", "tripod")),
    TypeSpec("action_cam", "cameras", "Action Camera", "运动相机", (1299, 3999), 6,
             attrs={"resolution": ("4K", "5K")}, complements=("memory_card",)),
    TypeSpec("memory_card", "camera_acc", "SD Memory Card", "SD存储卡", (59, 499), 8,
             attrs={"capacity_gb": ("64", "128", "256")}),
    TypeSpec("camera_bag", "camera_acc", "Camera Bag", "相机包", (149, 899), 6, attrs={"colour": _COLOURS[:3]}),
    TypeSpec("tripod", "camera_acc", "Travel Tripod", "旅行三脚架", (199, 1299), 5,
             attrs={"height_cm": ("140", "160")}),
    TypeSpec("laptop", "laptops", "Laptop", "笔记本电脑", (3999, 15999), 12,
             attrs={"screen_in": ("13", "14", "16"), "ram_gb": ("8", "16", "32")},
             complements=("mouse", "laptop_sleeve")),
    TypeSpec("mouse", "computer_acc", "Wireless Mouse", "无线鼠标", (59, 499), 8, attrs={"colour": _COLOURS[:3]}),
    TypeSpec("keyboard", "computer_acc", "Mechanical Keyboard", "机械键盘", (199, 1299), 8,
             attrs={"layout": ("full", "tenkeyless")}),
    TypeSpec("laptop_sleeve", "computer_acc", "Laptop Sleeve", "电脑内胆包", (79, 299), 6,
             attrs={"screen_in": ("13", "14", "16")}),
    TypeSpec("headphones", "audio", "Noise Cancelling Headphones", "降噪耳机", (399, 2999), 10,
             attrs={"colour": _COLOURS[:3]}),
    TypeSpec("earbuds", "audio", "Wireless Earbuds", "无线耳机", (199, 1599), 8, attrs={"colour": _COLOURS[:2]}),
    TypeSpec("speaker", "audio", "Bluetooth Speaker", "蓝牙音箱", (199, 1999), 6, attrs={"colour": _COLOURS[:4]}),
    TypeSpec("washer", "large_appliances", "Front Load Washer", "滚筒洗衣机", (2499, 8999), 8,
             attrs={"capacity_kg": ("8", "10", "12")}, complements=("detergent",), large=True),
    TypeSpec("fridge", "large_appliances", "Refrigerator", "冰箱", (2999, 12999), 8,
             attrs={"capacity_l": ("300", "450", "600")}, large=True),
    TypeSpec("dishwasher", "large_appliances", "Dishwasher", "洗碗机", (2999, 7999), 6,
             attrs={"place_settings": ("8", "13")}, complements=("dishwasher_tabs",), large=True),
    TypeSpec("air_fryer", "kitchen", "Air Fryer", "空气炸锅", (299, 1299), 8, attrs={"capacity_l": ("4", "6")}),
    TypeSpec("blender", "kitchen", "High Speed Blender", "破壁料理机", (299, 2499), 6,
             attrs={"capacity_l": ("1.5", "2")}),
    TypeSpec("kettle", "kitchen", "Electric Kettle", "电热水壶", (99, 499), 6, attrs={"capacity_l": ("1.5", "1.7")}),
    TypeSpec("heater", "climate", "Space Heater", "取暖器", (199, 1299), 8, season="winter",
             attrs={"watts": ("1500", "2200")}),
    TypeSpec("humidifier", "climate", "Humidifier", "加湿器", (149, 899), 6, season="winter",
             attrs={"capacity_l": ("3", "5")}),
    TypeSpec("fan", "climate", "Pedestal Fan", "落地扇", (149, 799), 8, season="summer",
             attrs={"colour": _COLOURS[:2]}),
    TypeSpec("air_conditioner", "climate", "Air Conditioner", "空调", (2599, 7999), 6, season="summer",
             attrs={"hp": ("1", "1.5", "2")}, large=True),
    TypeSpec("down_jacket", "outerwear", "Down Jacket", "羽绒服", (499, 3999), 12, season="winter",
             attrs={"size": _SIZES, "colour": _COLOURS[:4]}),
    TypeSpec("rain_jacket", "outerwear", "Waterproof Shell Jacket", "防水冲锋衣", (299, 1999), 8,
             attrs={"size": _SIZES, "colour": _COLOURS[2:]}),
    TypeSpec("wool_coat", "outerwear", "Wool Coat", "羊毛大衣", (799, 4999), 8, season="winter",
             attrs={"size": _SIZES, "colour": ("camel", "black", "grey")}),
    TypeSpec("running_shoes", "sports", "Running Shoes", "跑步鞋", (399, 1599), 12,
             attrs={"size_eu": ("39", "41", "43", "45"), "colour": _COLOURS[:3]}),
    TypeSpec("fitness_tracker", "sports", "Fitness Tracker", "运动手环", (199, 1999), 8,
             attrs={"colour": _COLOURS[:2]}),
    TypeSpec("yoga_mat", "sports", "Yoga Mat", "瑜伽垫", (79, 499), 6, attrs={"thickness_mm": ("6", "8")}),
    TypeSpec("duvet", "bedding", "Winter Duvet", "冬被", (299, 2499), 8, season="winter",
             attrs={"size": ("single", "double", "king")}),
    TypeSpec("pillow", "bedding", "Memory Foam Pillow", "记忆棉枕头", (99, 599), 8,
             attrs={"firmness": ("soft", "medium", "firm")}),
    TypeSpec("sheets", "bedding", "Cotton Sheet Set", "纯棉床品套件", (199, 999), 8,
             attrs={"size": ("single", "double", "king")}),
    TypeSpec("vitamins", "health", "Multivitamin", "复合维生素", (89, 399), 8, 30, attrs={"tablets": ("60", "120")}),
    TypeSpec("protein", "health", "Whey Protein", "乳清蛋白粉", (199, 599), 8, 30, attrs={"weight_kg": ("1", "2.5")}),
    TypeSpec("fish_oil", "health", "Omega-3 Fish Oil", "深海鱼油", (99, 399), 6, 60, attrs={"capsules": ("90", "180")}),
    TypeSpec("detergent", "cleaning", "Laundry Detergent", "洗衣液", (29, 99), 8, 30, attrs={"volume_l": ("2", "4")}),
    TypeSpec("dishwasher_tabs", "cleaning", "Dishwasher Tablets", "洗碗块", (49, 149), 6, 40,
             attrs={"pieces": ("40", "100")}),
    TypeSpec("descaler", "cleaning", "Descaler", "除垢剂", (29, 89), 4, 90, attrs={"volume_ml": ("250", "500")}),
    TypeSpec("building_blocks", "toys", "Building Blocks Set", "积木套装", (99, 1299), 10,
             attrs={"age": ("4+", "8+", "12+")}),
    TypeSpec("board_game", "toys", "Board Game", "桌游", (79, 399), 8, attrs={"players": ("2-4", "3-6")}),
    TypeSpec("plush", "toys", "Plush Toy", "毛绒玩具", (49, 299), 6, attrs={"height_cm": ("25", "40")}),
    TypeSpec("cookbook", "books", "Cookbook", "菜谱", (39, 129), 6, attrs={"format": ("hardcover", "paperback")}),
    TypeSpec("picture_book", "books", "Picture Book", "儿童绘本", (29, 99), 8,
             attrs={"format": ("hardcover", "board")}),
    TypeSpec("novel", "books", "Novel", "小说", (29, 89), 8, attrs={"format": ("hardcover", "paperback")}),
)

# Names shown for attribute values in Chinese product names.
ZH_VALUES = {
    "black": "黑色", "white": "白色", "grey": "灰色", "navy": "藏青", "green": "墨绿", "beige": "米色", "camel": "驼色",
}
UNITS = {
    "weight_g": ("g", "克"), "weight_kg": ("kg", "公斤"), "volume_ml": ("ml", "毫升"), "volume_l": ("L", "升"),
    "capacity_l": ("L", "升"), "capacity_kg": ("kg", "公斤"), "capacity_gb": ("GB", "GB"), "storage_gb": ("GB", "GB"),
    "pieces": ("pcs", "片装"), "size": ("", "码"), "size_eu": ("EU", "码"), "screen_in": ("in", "英寸"),
    "watts": ("W", "W"), "mah": ("mAh", "mAh"), "megapixels": ("MP", "MP"), "height_cm": ("cm", "厘米"),
    "tablets": ("tablets", "片"), "capsules": ("caps", "粒"), "sheets": ("sheets", "张"), "pages": ("pages", "页"),
    "hp": ("HP", "匹"), "place_settings": ("sets", "套"), "thickness_mm": ("mm", "毫米"), "stage": ("stage", "段"),
}
# fmt: on
SERIES = ("One", "Two", "Pro", "Plus", "Lite", "Max", "Air", "Mini", "Neo", "Flex", "Zen", "Duo")
