"""Every label of the web page in English and Chinese (simplified; the offices read both scripts).

Templates call ``t("key")``; a key missing here is a KeyError in the tests, never a blank label.
"""

from __future__ import annotations

LANGS = ("en", "zh")

LABELS: dict[str, tuple[str, str]] = {
    "app": ("Suspects: partner-office check", "嫌疑对象：协作办公室查询"),
    "tagline": ("Has any partner office seen this entity?", "是否有协作办公室掌握此对象？"),
    "switch": ("中文", "English"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出"),
    "api_key": ("API key", "API 密钥"),
    "key_help": (
        "Paste the key your office administrator gave you. It is kept only until you close the browser.",
        "请粘贴办公室管理员发给您的密钥。关闭浏览器后即失效。",
    ),
    "bad_key": ("That key was not accepted: ", "密钥无效："),
    "csrf_failed": (
        "This form expired or came from another site: reload the page and try again.",
        "表单已过期或来自其他网站：请刷新页面后重试。",
    ),
    "signed_in_already": (
        "You are signed in already. Sign out first to sign in with another key.",
        "您已登录。如需使用其他密钥登录，请先退出。",
    ),
    "signed_in_as": ("Signed in: office {office}, role {role}", "已登录：办公室 {office}，角色 {role}"),
    "role.investigator": ("investigator", "调查员"),
    "role.system": ("system", "系统"),
    "role.analyst": ("analyst", "分析员"),
    "role.office-admin": ("office admin", "办公室管理员"),
    "role.auditor": ("auditor", "审计员"),
    "search": ("Search", "查询"),
    "screening": ("Screening", "批量筛查"),
    "name": ("Name", "姓名/名称"),
    "name_help": (
        "Chinese characters (simplified or traditional), pinyin, Cantonese or Wade-Giles",
        "汉字（简体或繁体）、拼音、粤语或威妥玛拼写",
    ),
    "entity_type": ("Type", "类型"),
    "any": ("Person or company", "个人或企业"),
    "person": ("Person", "个人"),
    "company": ("Company", "企业"),
    "id_number": ("ID number", "证件号码"),
    "birth_date": ("Birth date", "出生日期"),
    "offices": ("Offices", "办公室"),
    "all_offices": ("none ticked: all offices", "不勾选即全部办公室"),
    "seen_by": ("Seen by {n} partner offices", "{n} 个协作办公室掌握此对象"),
    "seen_by_one": ("Seen by 1 partner office", "1 个协作办公室掌握此对象"),
    "not_seen": ("Not seen by any partner office", "没有协作办公室掌握此对象"),
    "not_confirmed": (
        "Not confirmed by any partner office: {n} records worth a look",
        "没有协作办公室的记录可确认：{n} 条记录值得一看",
    ),
    "own_only": ("Held only by your own office", "仅本办公室掌握此对象"),
    "and_own": ("and by your own office", "本办公室亦有记录"),
    "entities_many": (
        "{n} different {kind} match this name: tell them apart before acting",
        "有 {n} 个不同的{kind}与此名称匹配：行动前请加以区分",
    ),
    "kind.person": ("people", "人"),
    "kind.company": ("companies", "企业"),
    "kind.entity": ("entities", "对象"),
    "entity_n": ("{kind} {n}", "{kind} {n}"),
    "entity.person": ("Person", "人员"),
    "entity.company": ("Company", "企业"),
    "entity.entity": ("Entity", "对象"),
    "held_by": ("held by", "掌握记录的办公室："),
    "undecided": (
        "Nothing tells this record apart from entity {n}: it may be the same",
        "无法与对象 {n} 区分：可能是同一对象",
    ),
    "assumed": ("Searched as", "查询类型"),
    "worth_a_look": ("Worth a look, not confirmed ({n})", "值得一看，未确认（{n}）"),
    "worth_a_look_help": (
        "These records may be the same entity, but the evidence stops short of a match: check them by hand, "
        "or search again with an ID number or birth date.",
        "这些记录可能是同一对象，但证据不足以判定匹配：请人工核查，或加上证件号码或出生日期再查。",
    ),
    "only_possible": ("Only possible", "仅为可能"),
    "score": ("Score", "得分"),
    "why": ("Why it matched", "匹配依据"),
    "record": ("Record", "记录"),
    "open_record": ("Open record", "查看记录"),
    "query_form": ("Your query", "查询"),
    "record_form": ("Record", "记录"),
    "aliases": ("Aliases", "别名"),
    "gender": ("Gender", "性别"),
    "phone": ("Phone", "电话"),
    "address": ("Address", "地址"),
    "case": ("Case", "案件"),
    "case_id": ("Case id", "案件编号"),
    "case_date": ("Case date", "立案日期"),
    "offence": ("Offence", "违法行为"),
    "same_entity": ("The same entity in other records", "其他记录中的同一对象"),
    "none_elsewhere": (
        "No other record is judged the same entity.",
        "没有判定为同一对象的其他记录。",
    ),
    "upload": ("Upload a watchlist", "上传名单"),
    "upload_help": (
        "CSV, XLSX or JSONL with a name column (also: query_id, entity_type, id_number, birth_date).",
        "CSV、XLSX 或 JSONL 文件，须有 name（姓名）列（可选：query_id、entity_type、id_number、birth_date）。",
    ),
    "file": ("File", "文件"),
    "limit": ("Matches per row", "每行最多匹配数"),
    "start": ("Start screening", "开始筛查"),
    "jobs": ("This office's screenings", "本办公室的筛查任务"),
    "no_jobs": ("No screenings yet.", "暂无筛查任务。"),
    "alerts": ("Alerts", "预警"),
    "alerts_help": (
        "A partner office recorded someone your office watches. Open alerts first.",
        "协作办公室登记了本办公室关注的对象。未处理的预警在前。",
    ),
    "no_alerts": ("No alerts yet.", "暂无预警。"),
    "unread": ("{n} open", "{n} 条未处理"),
    "watched_entry": ("Watched by your office", "本办公室关注"),
    "partner_record": ("Partner's record", "协作办公室记录"),
    "verdict.match": ("match", "匹配"),
    "verdict.possible": ("worth a look", "值得核查"),
    "status.open": ("open", "未处理"),
    "status.acknowledged": ("acknowledged", "已确认"),
    "status.dismissed": ("dismissed", "已驳回"),
    "status.closed": ("closed", "已关闭"),
    "closed_because": ("Closed", "已关闭"),
    "reason": ("Reason", "理由"),
    "acknowledge": ("Acknowledge", "确认"),
    "dismiss": ("Dismiss", "驳回"),
    "watchlists": ("Watchlists", "关注名单"),
    "watchlists_help": (
        "Standing watchlists: when any partner office loads or changes a record matching an entry, your office is alerted.",
        "常设关注名单：任何协作办公室录入或修改与条目匹配的记录时，本办公室会收到预警。",
    ),
    "new_watchlist": ("New watchlist", "新建关注名单"),
    "create": ("Create", "创建"),
    "n_entries": ("{n} entries", "{n} 个条目"),
    "reference": ("Reference", "本方编号"),
    "note": ("Note", "备注"),
    "add_entry": ("Add entry", "添加条目"),
    "upload_entries": ("Add from file", "从文件添加"),
    "remove": ("Remove", "删除"),
    "status": ("Status", "状态"),
    "rows": ("Rows", "行数"),
    "rows_done": ("Rows done", "已完成行数"),
    "rows_seen": ("Rows seen", "已匹配行数"),
    "rows_rejected": ("Rows rejected", "无法核查的行"),
    "rows_not_seen": ("Rows not seen", "未匹配行数"),
    "preview": ("The first {n} rows", "前 {n} 行"),
    "line": ("Line", "行号"),
    "verdict": ("Verdict", "结论"),
    "best_match": ("Best match", "最佳匹配"),
    "rejected": ("rejected", "无法核查"),
    "seen": ("seen", "已掌握"),
    "unseen": ("not seen", "未掌握"),
    "rate": ("Rows/s", "行/秒"),
    "eta": ("Time left", "剩余时间"),
    "queue_position": ("In line", "排队"),
    "queue_place": (
        "number %d for your office; %d offices take turns",
        "本单位第 %d 个；%d 个单位轮流处理",
    ),
    "created": ("Submitted", "提交时间"),
    "download_csv": ("Download results (CSV)", "下载结果（CSV）"),
    "download_jsonl": ("Download results (JSONL)", "下载结果（JSONL）"),
    "cancel": ("Cancel", "取消"),
    "queued": ("queued", "排队中"),
    "running": ("running", "进行中"),
    "done": ("done", "已完成"),
    "cancelled": ("cancelled", "已取消"),
    "failed": ("failed", "失败"),
    "error": ("Error", "错误"),
    "forbidden": ("Your key's role may not do this.", "您的密钥角色无权执行此操作。"),
    "back": ("Back to search", "返回查询"),
    "feature.name": ("name", "名称"),
    "feature.id_number": ("ID number", "证件号码"),
    "feature.birth_date": ("birth date", "出生日期"),
    "feature.gender": ("gender", "性别"),
    "feature.industry": ("industry", "行业"),
    "feature.legal_form": ("legal form", "企业类型"),
    "feature.region": ("region", "地区"),
}


def translate(lang: str, key: str, **values: object) -> str:
    en, zh = LABELS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def feature_label(lang: str, feature: str) -> str:
    key = f"feature.{feature}"
    return translate(lang, key) if key in LABELS else feature


# The scorer explains in English; the Chinese page translates its phrases (issue #15: "characters:
# identical", "birth date identical" stayed English). Longest phrases first, so that "birth date
# agrees as far as known" is not cut by "agrees". A phrase missing here stays English, and
# tests/test_browser.py checks the common ones are gone from the Chinese page.
_EXPLAIN_ZH: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "traditional ⇄ simplified": "繁体 ⇄ 简体",
            "birth date conflicts": "出生日期不符",
            "birth date identical": "出生日期相同",
            "birth date agrees as far as known": "出生日期在已知部分一致",
            "gender conflicts": "性别不符",
            "region conflicts": "地区不符",
            "region agrees": "地区一致",
            "industry agrees": "行业一致",
            "industry conflicts": "行业不符",
            "legal form agrees": "企业类型一致",
            "legal form differs": "企业类型不同",
            "characters": "汉字",
            "pinyin": "拼音",
            "Wade-Giles": "威妥玛拼音",
            "Cantonese": "粤语拼音",
            "spelling": "拼写",
            "identical": "相同",
            "agrees as far as known": "在已知部分一致",
            "agrees": "一致",
            "conflicts": "不符",
            "differs": "不同",
            "birth date": "出生日期",
            "gender": "性别",
            "region": "地区",
            "industry": "行业",
            "legal form": "企业类型",
            "unverified check digit": "校验位未通过",
            "verified": "已校验",
            "no comparable name": "无可比较的名称",
            "an ID number or birth date would confirm it": "证件号码或出生日期可以确认",
            "an ID number or birth date would decide": "证件号码或出生日期可以判定",
            "is below the": "低于匹配所需的",
            "of a match": "分",
            "rests on": "基于",
            "other characters that sound the same": "字不同而读音相同",
            "guesses": "处推测",
            "taken for a slip": "视为笔误",
            "differs by a whole syllable": "相差一个完整音节",
            "a reading names rarely use": "人名中少见的读音",
            "surname taken to be the last word": "将末尾一词视为姓氏",
            "a personal spelling (Taiwan / Hong Kong)": "台湾/香港个人拼写",
            "is not how Hong Kong writes Cantonese": "不是香港拼写粤语的写法",
            "the spelling fits": "此拼写对应",
            "different Chinese names": "个不同的中文姓名",
            "written in": "以",
            "read as": "书写，按此读：",
            "fuzzy": "模糊音",
            "homophone": "同音字",
            "score": "得分",
            "names differ": "名称不同",
            "not entity": "不是对象",
            "cn_rid": "居民身份证",
            "hkid": "香港身份证",
            "uscc": "统一社会信用代码",
            "phone": "电话",
            " vs ": " 与 ",
            "male": "男",
            "female": "女",
        }.items(),
        key=lambda kv: -len(kv[0]),
    )
)


def explain(lang: str, detail: str) -> str:
    """One line of a match's explanation in the page's language."""
    if lang != "zh":
        return detail
    for en, zh in _EXPLAIN_ZH:
        detail = detail.replace(en, zh)
    return detail
