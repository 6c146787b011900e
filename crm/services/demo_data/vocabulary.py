"""The word lists, weights and constants the demo data is drawn from."""

from __future__ import annotations

from crm.models import CreditEvent, Interaction, ProductHolding, Transaction

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - the documented demo login, never production
DEMO_PREFIX = "DEMO-"
CUSTOMERS_PER_TEAM = 50_000
CUSTOMERS_PER_RM = 2_000
DAY = 86_400
HISTORY_DAYS = 3 * 365  # customers joined over the last three years
TRANSACTION_DAYS = 456  # fifteen months of transactions
BALANCE_DAYS = 92

# --- Pools ------------------------------------------------------------------------------------
# fmt: off

TEAM_NAMES = [
    "浦东支行", "徐汇支行", "静安支行", "黄浦支行", "长宁支行", "普陀支行", "虹口支行", "杨浦支行",
    "闵行支行", "宝山支行", "嘉定支行", "松江支行", "青浦支行", "奉贤支行", "金山支行", "崇明支行",
    "陆家嘴支行", "张江支行", "虹桥支行", "五角场支行", "苏州分行", "杭州分行", "南京分行",
    "无锡分行",
]

# (surname, pinyin, weight in per mille of the population, roughly)
SURNAMES = [
    ("王", "wang", 71), ("李", "li", 70), ("张", "zhang", 67), ("刘", "liu", 54),
    ("陈", "chen", 45), ("杨", "yang", 31), ("黄", "huang", 23), ("赵", "zhao", 23),
    ("吴", "wu", 20), ("周", "zhou", 19),
    ("徐", "xu", 15), ("孙", "sun", 14), ("马", "ma", 13), ("朱", "zhu", 12), ("胡", "hu", 12),
    ("郭", "guo", 11), ("何", "he", 10), ("高", "gao", 10), ("林", "lin", 10), ("罗", "luo", 9),
    ("郑", "zheng", 9), ("梁", "liang", 8), ("谢", "xie", 7), ("宋", "song", 7), ("唐", "tang", 6),
    ("许", "xu", 6), ("韩", "han", 6), ("冯", "feng", 6), ("邓", "deng", 6), ("曹", "cao", 5),
    ("彭", "peng", 5), ("曾", "zeng", 5), ("肖", "xiao", 5), ("田", "tian", 5), ("董", "dong", 5),
    ("袁", "yuan", 4), ("潘", "pan", 4), ("于", "yu", 4), ("蒋", "jiang", 4), ("蔡", "cai", 4),
    ("余", "yu", 4), ("杜", "du", 4), ("叶", "ye", 4), ("程", "cheng", 4), ("苏", "su", 3),
    ("魏", "wei", 3), ("吕", "lv", 3), ("丁", "ding", 3), ("任", "ren", 3), ("沈", "shen", 3),
    ("姚", "yao", 3), ("卢", "lu", 3), ("姜", "jiang", 3), ("崔", "cui", 3), ("钟", "zhong", 3),
    ("谭", "tan", 3), ("陆", "lu", 3), ("汪", "wang", 3), ("范", "fan", 3), ("金", "jin", 3),
    ("石", "shi", 3), ("廖", "liao", 3), ("贾", "jia", 2), ("夏", "xia", 2), ("韦", "wei", 2),
    ("付", "fu", 2), ("方", "fang", 2), ("白", "bai", 2), ("邹", "zou", 2), ("孟", "meng", 2),
    ("熊", "xiong", 2), ("秦", "qin", 2), ("邱", "qiu", 2), ("江", "jiang", 2), ("尹", "yin", 2),
    ("薛", "xue", 2), ("段", "duan", 2), ("雷", "lei", 2), ("侯", "hou", 2), ("龙", "long", 2),
    ("史", "shi", 2), ("陶", "tao", 2), ("黎", "li", 2), ("贺", "he", 2), ("顾", "gu", 2),
    ("毛", "mao", 2), ("郝", "hao", 2), ("龚", "gong", 2), ("邵", "shao", 2), ("钱", "qian", 2),
    ("欧阳", "ouyang", 1), ("司马", "sima", 1), ("诸葛", "zhuge", 1),
]

GIVEN_CHARACTERS = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("鹏", "peng"), ("飞", "fei"),
    ("玲", "ling"), ("婷", "ting"), ("雪", "xue"), ("梅", "mei"), ("晨", "chen"), ("宇", "yu"),
    ("浩", "hao"), ("然", "ran"), ("子", "zi"), ("涵", "han"), ("欣", "xin"), ("怡", "yi"),
    ("梓", "zi"), ("轩", "xuan"), ("思", "si"), ("远", "yuan"), ("佳", "jia"), ("琪", "qi"),
    ("俊", "jun"), ("雨", "yu"), ("萱", "xuan"), ("博", "bo"), ("嘉", "jia"), ("诗", "shi"),
    ("一", "yi"), ("诺", "nuo"), ("晓", "xiao"), ("红", "hong"), ("志", "zhi"), ("海", "hai"),
    ("亮", "liang"), ("春", "chun"), ("燕", "yan"), ("慧", "hui"), ("丹", "dan"), ("波", "bo"),
    ("斌", "bin"), ("宁", "ning"), ("颖", "ying"), ("峰", "feng"), ("凯", "kai"), ("瑞", "rui"),
    ("鑫", "xin"), ("天", "tian"), ("阳", "yang"), ("昊", "hao"), ("泽", "ze"), ("彤", "tong"),
    ("馨", "xin"), ("悦", "yue"),
]

BUSINESS_CITIES = ["上海", "上海", "上海", "苏州", "杭州", "南京", "宁波"]
BUSINESS_WORDS = [
    "华信", "恒通", "瑞丰", "鼎盛", "金桥", "宏达", "永安", "东方", "锦程", "汇丰源", "新世纪",
    "博远", "天合", "盛世", "佳禾", "中联", "星辰", "安泰",
]
BUSINESS_TRADES = [
    "贸易", "科技", "餐饮管理", "物流", "实业", "电子商务", "建筑工程", "文化传媒", "医疗器械",
    "投资咨询", "服装", "食品",
]

# China's mobile prefixes that libphonenumber accepts as valid.
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "198", "199",
]
EMAIL_DOMAINS = ["163.com", "126.com", "sina.com", "foxmail.com", "outlook.com", "139.com"]
EMAIL_DOMAIN_WEIGHTS = [35, 15, 8, 15, 17, 10]

# category: (share of purchases, lowest and highest amount, merchants)
CATEGORIES: dict[str, tuple[int, float, float, list[str]]] = {
    Transaction.Category.DINING: (24, 18, 600, [
        "星巴克", "海底捞", "喜茶", "瑞幸咖啡", "肯德基", "麦当劳", "西贝莜面村", "外婆家",
        "必胜客", "太二酸菜鱼", "南翔馒头店", "鼎泰丰"]),
    Transaction.Category.SUPERMARKET: (22, 12, 900, [
        "盒马鲜生", "全家", "罗森", "7-Eleven", "永辉超市", "沃尔玛", "家乐福", "大润发",
        "山姆会员店", "联华超市", "叮咚买菜"]),
    Transaction.Category.MOTHER_AND_BABY: (6, 40, 2_500, [
        "孩子王", "爱婴室", "乐友", "贝亲官方旗舰店", "天猫母婴"]),
    Transaction.Category.TRAVEL: (8, 30, 9_000, [
        "携程", "飞猪", "去哪儿", "东方航空", "中国国航", "春秋航空", "铁路12306", "华住会",
        "锦江酒店", "滴滴出行"]),
    Transaction.Category.ELECTRONICS: (6, 80, 15_000, [
        "京东", "苏宁易购", "Apple Store", "小米之家", "华为旗舰店"]),
    Transaction.Category.FASHION: (9, 60, 4_000, [
        "优衣库", "ZARA", "天猫", "唯品会", "太平鸟", "李宁", "安踏"]),
    Transaction.Category.HEALTH: (5, 20, 3_000, [
        "老百姓大药房", "益丰大药房", "美年大健康", "爱尔眼科", "叮当快药"]),
    Transaction.Category.EDUCATION: (3, 100, 12_000, ["新东方", "学而思", "得到", "樊登读书"]),
    Transaction.Category.HOME: (5, 50, 9_000, ["宜家家居", "红星美凯龙", "居然之家", "无印良品"]),
    Transaction.Category.OTHER: (12, 10, 600, [
        "拼多多", "美团", "饿了么", "中国移动", "国家电网", "上海燃气"]),
}
TRANSACTION_COUNTS = list(range(81))
# Geometric with a mean of about ten transactions: most customers buy a little, a few a lot.
TRANSACTION_COUNT_WEIGHTS = [(10 / 11) ** n for n in TRANSACTION_COUNTS]
TRANSACTION_KINDS = [
    Transaction.Kind.PURCHASE, Transaction.Kind.CARD_REPAYMENT, Transaction.Kind.REFUND
]
TRANSACTION_KIND_WEIGHTS = [84, 12, 4]
PURCHASE_CHANNELS = [
    Transaction.Channel.ONLINE, Transaction.Channel.STORE, Transaction.Channel.POS,
    Transaction.Channel.APP,
]
PURCHASE_CHANNEL_WEIGHTS = [40, 20, 25, 15]
PAYMENT_METHODS = [
    Transaction.PaymentMethod.WALLET, Transaction.PaymentMethod.CARD,
    Transaction.PaymentMethod.ACCOUNT, Transaction.PaymentMethod.CASH,
]
PAYMENT_METHOD_WEIGHTS = [50, 38, 8, 4]

# product type: (share, lowest and highest amount, product names)
PRODUCTS: dict[str, tuple[int, float, float, list[str]]] = {
    ProductHolding.ProductType.WEALTH_MANAGEMENT: (25, 10_000, 2_000_000, [
        "朝朝宝", "天天利理财", "稳健增利180天", "季季开理财", "安心稳健一年定开"]),
    ProductHolding.ProductType.DEPOSIT: (20, 10_000, 1_000_000, [
        "一年期定期存款", "三年期定期存款", "大额存单", "七天通知存款"]),
    ProductHolding.ProductType.CREDIT_CARD: (25, 10_000, 100_000, [
        "经典白金信用卡", "金卡", "携程联名信用卡", "青年信用卡"]),
    ProductHolding.ProductType.FUND: (12, 1_000, 500_000, [
        "易方达蓝筹精选混合", "招商中证白酒指数", "华夏沪深300ETF联接", "稳健增长混合基金",
        "嘉实纯债债券"]),
    ProductHolding.ProductType.INSURANCE: (10, 2_000, 300_000, [
        "平安福重疾险", "国寿鑫享年金", "太平洋百万医疗", "泰康健康尊享"]),
    ProductHolding.ProductType.LOAN: (8, 50_000, 3_000_000, [
        "个人住房贷款", "个人消费贷款", "经营贷", "汽车贷款"]),
}
HOLDING_COUNTS = [0, 1, 2, 3, 4]
HOLDING_COUNT_WEIGHTS = [10, 35, 35, 15, 5]  # 1.7 per bank customer

# kind, severity, note, weight
CREDIT_EVENTS = [
    (CreditEvent.Kind.CARD_OVERDUE, CreditEvent.Severity.MINOR, "信用卡逾期7天，已短信提醒", 40),
    (CreditEvent.Kind.CARD_OVERDUE, CreditEvent.Severity.SERIOUS, "信用卡逾期超过90天", 8),
    (CreditEvent.Kind.OVERDUE_LOAN, CreditEvent.Severity.MINOR, "贷款逾期15天，客户已承诺还款", 20),
    (CreditEvent.Kind.OVERDUE_LOAN, CreditEvent.Severity.SERIOUS, "贷款逾期超过60天", 15),
    (CreditEvent.Kind.FRAUD_FLAG, CreditEvent.Severity.SERIOUS, "疑似盗刷，风控冻结", 7),
    (CreditEvent.Kind.DEFAULT, CreditEvent.Severity.SERIOUS, "贷款违约，已移交资产保全部", 10),
]

INTERACTIONS: dict[str, tuple[int, list[str]]] = {
    Interaction.Kind.LOGIN: (35, ["手机银行登录", "App登录", "小程序登录"]),
    Interaction.Kind.CALL: (20, [
        "电话回访：客户对理财产品满意", "电话提醒：信用卡还款日临近", "客户来电咨询积分兑换",
        "电话回访：了解客户近期资金安排"]),
    Interaction.Kind.REVIEW: (15, [
        "评价：送货很快，包装完好", "评价：服务态度很好", "评价：商品与描述不符",
        "评价：性价比高，会回购"]),
    Interaction.Kind.MESSAGE: (12, [
        "短信通知：积分即将到期", "短信通知：生日礼遇已发放", "推送：会员日活动提醒"]),
    Interaction.Kind.VISIT: (8, [
        "到网点办理大额存单", "网点咨询房贷提前还款", "网点办理信用卡提额"]),
    Interaction.Kind.NOTE: (5, ["客户偏好周末联系", "客户计划明年购房", "客户孩子明年上小学"]),
    Interaction.Kind.FEEDBACK: (5, ["满意度调查：非常满意", "满意度调查：等待时间太长"]),
}
STAFF_INTERACTIONS = {Interaction.Kind.CALL, Interaction.Kind.VISIT, Interaction.Kind.NOTE}
INTERACTION_COUNTS = list(range(9))
INTERACTION_COUNT_WEIGHTS = [10, 15, 20, 20, 15, 10, 5, 3, 2]

PREFERENCES = [
    "无烟房，靠近电梯", "枕头：记忆棉", "只在工作日下午联系", "不喜欢电话营销，请发短信",
    "偏好靠窗座位", "对坚果过敏", "需要增值税专用发票", "周末不接电话", "喜欢素食",
    "沟通请用上海话", "快递放门卫", "理财偏好稳健型",
]

# name, description, share of customers (per mille)
MANUAL_TAGS = [
    ("高净值", "资产规模较高，由客户经理重点维护", 12),
    ("潜力客户", "消费增长快，有升级潜力", 15),
    ("重点维护", "客户经理每月至少联系一次", 10),
    ("投诉敏感", "曾有投诉，沟通需谨慎", 4),
    ("企业主", "个人客户名下有企业", 5),
    ("VIP", "贵宾客户", 6),
]
CONSENT_EVIDENCE = ["开户时签署", "App隐私设置", "网点柜台", "电话确认", "线上商城注册"]
# fmt: on
