"""The FAQ bot's retrieval core: which knowledge-base entry a customer's question is about, and how sure
that is, so the bot answers, offers suggestions or hands the chat to a person.

Pure logic: the caller loads the knowledge base and the index artifact. Entries are matched through their
standard question and similar phrasings, on jieba words (canonicalised by synonyms) and, at a lower weight,
the character bigrams of the word sequence, which still match when the two sides segment differently
("刚下/单想" against "下单").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopdesk.text import teach, tokens

# Colloquial → canonical. Both the knowledge base and the queries go through it, so an entry need not
# spell out every way of saying a thing.
DEFAULT_SYNONYMS: dict[str, str] = {
    # returns, refunds, price protection
    "退钱": "退款",
    "退款项": "退款",
    "返款": "退款",
    "寄回去": "寄回",
    "寄回来": "寄回",
    "退回去": "寄回",
    "7天无理由": "七天无理由",
    "无理由": "七天无理由",
    "保价": "价保",
    "退差价": "价保",
    "补差价": "价保",
    "拒签": "拒收",
    "调换": "换",
    "更换": "换",
    "换成": "换",
    # shipping
    "快递": "物流",
    "快件": "物流",
    "发出": "发货",
    "寄出": "发货",
    "发走": "发货",
    "送到": "到货",
    "送达": "到货",
    "邮费": "运费",
    "快递费": "运费",
    "不动": "停滞",
    "没动": "停滞",
    "不走": "停滞",
    "卡住": "停滞",
    "尽快": "加急",
    "赶紧": "加急",
    "快点": "加急",
    "快递单号": "单号",
    "物流单号": "单号",
    "运单号": "单号",
    "快递柜": "驿站",
    "丰巢": "驿站",
    "国外": "海外",
    "境外": "海外",
    "香港": "港澳台",
    "澳门": "港澳台",
    "台湾": "港澳台",
    "到付": "货到付款",
    # size and fit
    "尺寸": "尺码",
    "号码": "尺码",
    "码数": "尺码",
    "码子": "尺码",
    "号型": "尺码",
    "码": "尺码",
    "几码": "尺码",
    "多大码": "尺码",
    "大小": "尺码",
    "买大": "尺码不合适",
    "买小": "尺码不合适",
    "不合身": "尺码不合适",
    # invoices
    "开票": "发票",
    "开发票": "发票",
    "专用发票": "专票",
    "增值税专用发票": "专票",
    "开专票": "专票",
    "普通发票": "普票",
    "发票抬头": "抬头",
    "纳税人识别号": "税号",
    # promotions and payment
    "双11": "双十一",
    "券": "优惠券",
    "红包": "优惠券",
    "打折": "折扣",
    "付款": "支付",
    "付钱": "支付",
    "付账": "支付",
    "分期付款": "分期",
    "扣钱": "扣款",
    "帐号": "账号",
    "账户": "账号",
    "vip": "会员",
    # goods, care and defects
    "东西": "商品",
    "宝贝": "商品",
    "货品": "商品",
    "没货": "缺货",
    "断货": "缺货",
    "无货": "缺货",
    "材质": "面料",
    "布料": "面料",
    "成分": "面料",
    "清洗": "洗",
    "洗涤": "洗",
    "水洗": "洗",
    "机洗": "洗",
    "洗衣机": "洗",
    "褪色": "掉色",
    "起毛球": "起球",
    "毛球": "起球",
    "跑绒": "钻毛",
    "钻绒": "钻毛",
    "掉毛": "钻毛",
    "掉绒": "钻毛",
    "味道": "异味",
    "臭味": "异味",
    "羽绒衣": "羽绒服",
    "鞋子": "鞋",
    "小孩": "孩子",
    "宝宝": "孩子",
    "儿童": "孩子",
    "小朋友": "孩子",
    "损坏": "破损",
    "摔坏": "破损",
    "压坏": "破损",
    "少发": "漏发",
    "少件": "漏发",
    "缺件": "漏发",
    "发错": "错发",
    "脱线": "开线",
    # orders, contact, time
    "订单编号": "订单号",
    "修改": "改",
    "更改": "改",
    "联系电话": "电话",
    "联系方式": "电话",
    "营业时间": "上班时间",
    "工作时间": "上班时间",
    "几天": "多久",
    "多少天": "多久",
    "多长时间": "多久",
}


def _vocabulary(*lines: str) -> tuple[str, ...]:
    return tuple(word for line in lines for word in line.split())


# Shop vocabulary the small dictionary lacks: without it jieba cuts 团购价 into 有团/购价 and 下单 into 刚下/单想.
DOMAIN_WORDS = _vocabulary(
    "下单 拍下 拍错 收到 收货人 收货地址 寄回 单号 分开 驿站 快递柜 上门取件 中转站 补发 少发 催单",
    "花呗 货到付款 到账 代付 免息 扣款 专票 抬头 差价 团购 缺货 没货 断货 断码",
    "领券 用券 满赠 新人券 秒杀 清仓 直播间 生日礼 账号 手机号",
    "版型 修身 大码 加大码 码数 鞋码 文胸 罩杯",
    "t恤 卫衣 衬衫 外套 针织衫 连衣裙 半身裙 牛仔裤 运动鞋 双肩包 保温杯",
    "钻毛 跑绒 充绒量 含绒量 鸭绒 鹅绒 透肉 洗水标 吊牌",
)

HANDOVER_PHRASES: tuple[str, ...] = _vocabulary("转人工 人工客服 人工服务 找人工 要人工 接人工 真人 活人 机器人")
# "给我转一下人工": a request verb shortly before 人工, which alone could also be a fabric ("人工皮革").
_ASKS_FOR_HUMAN = re.compile(r"(转|找|要|接|叫|换)[^，。！？,.!?]{0,4}人工")
# Complaints and claims: only a person can settle them, however close an FAQ entry looks.
ESCALATION_WORDS: tuple[str, ...] = _vocabulary("投诉 举报 12315 消协 工商局 起诉 律师 骗子 差评 赔偿 索赔")

# Customers' filler that text.tokens keeps; it would only dilute how much of a query an entry explains.
_FILLERS = frozenset(
    _vocabulary(
        "亲 亲亲 亲爱 请问 麻烦 谢谢 帮忙 想 弄 办 帮 给 让 把 下 个 啦 哈 嘛 咋 啥",
        "刚 刚刚 已 已经 现在 一直 还是 我要 我们 你们 你家 一个 哪个 一般 看看 以后 之前 的话",
        "如何 怎样 怎么样 怎么办 为什么 能不能 可不可以 是不是 有没有 会不会 不会 不能",
        "后 时 内 上 着 点 再",
    )
)

BIGRAM_MARK = "~"  # never part of a word: text.tokens keeps only alphanumeric pieces
BIGRAM_WEIGHT = 0.5  # a shared bigram is a hint, a shared word is evidence
_K1 = 1.2
_B = 0.75


class Analyzer:
    """Turns text into index terms: canonical words, then the character bigrams of the word sequence."""

    def __init__(self, words: Iterable[str] = (), synonyms: Mapping[str, str] | None = None) -> None:
        merged = {**DEFAULT_SYNONYMS, **(synonyms or {})}
        self.synonyms = {key.lower(): value.lower() for key, value in merged.items()}
        # The store's own words join the shared dictionary, like its routing keywords do.
        teach(word.lower() for word in words)
        # The built-in vocabulary and the synonyms are only kept whole here: taught, they would change how
        # every other user of the shared tokenizer (intents, routing) segments. Longest first, so
        # 增值税专用发票 wins over 专用发票.
        vocabulary = {word for word in (*DOMAIN_WORDS, *self.synonyms, *self.synonyms.values()) if len(word) > 1}
        self._whole = re.compile("|".join(map(re.escape, sorted(vocabulary, key=len, reverse=True))))

    def terms(self, text: str) -> list[str]:
        words = [self.synonyms.get(word, word) for word in self._segment(text.lower())]
        words = [word for word in words if word not in _FILLERS and not word.isdigit()]  # digits: order numbers
        # Bigrams run across word boundaries, so a query cut "刚下/单想" still shares 下单 with the entry.
        joined = "".join(words)
        bigrams = [BIGRAM_MARK + joined[i : i + 2] for i in range(len(joined) - 1) if _is_cjk(joined[i : i + 2])]
        return words + bigrams

    def _segment(self, text: str) -> list[str]:
        """text.tokens, except where jieba cuts through a vocabulary word: that word comes out whole.

        A vocabulary word inside a longer word jieba knows stays inside it (运费 in 运费险, 支付 in 支付宝).
        """
        spans = _spans(text, tokens(text))
        words: list[str] = []
        done = 0  # text before this offset is segmented
        position = 0  # next span to take
        for match in self._whole.finditer(text):
            start, end = match.span()
            while position < len(spans) and spans[position][1] <= start:
                words.append(text[slice(*spans[position])])
                done = spans[position][1]
                position += 1
            inside = position < len(spans) and spans[position][0] <= start and end <= spans[position][1]
            if inside or start < done:
                continue
            cut = position
            while position < len(spans) and spans[position][0] < end:
                position += 1
            # The words jieba made across the vocabulary word give up their leftovers on either side.
            left = spans[cut][0] if cut < position else start
            done = max(end, spans[position - 1][1]) if cut < position else end
            words += [*tokens(text[left:start]), match.group(), *tokens(text[end:done])]
        return words + [text[slice(*span)] for span in spans[position:]]


def _spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Where each of text.tokens' words sits in the text; the words come in order, as substrings."""
    spans = []
    offset = 0
    for word in words:
        start = text.find(word, offset)
        spans.append((start, start + len(word)))
        offset = start + len(word)
    return spans


def _is_cjk(word: str) -> bool:
    return all("\u4e00" <= char <= "\u9fff" for char in word)


def _weight(term: str) -> float:
    return BIGRAM_WEIGHT if term.startswith(BIGRAM_MARK) else 1.0


@dataclass(frozen=True)
class Doc:
    entry_id: str
    question: str
    similar: tuple[str, ...] = ()
    category: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float  # BM25 of the matched phrasing
    confidence: float  # 0..1, see _confidence
    matched: str


class Index:
    """An inverted index over phrasings (each entry's question and similar ones); get one from build or from_json.

    Entries rank by confidence, then by the BM25 score of their best phrasing. Per phrasing the index keeps
    the BM25 length factor and the idf mass of its terms, so each of them is one division away.
    """

    def __init__(
        self,
        entry_ids: list[str],
        owners: list[int],
        texts: list[str],
        norms: list[float],
        masses: list[float],
        postings: dict[str, tuple[float, list[int]]],
        unknown_idf: float,
    ) -> None:
        self._entry_ids = entry_ids
        self._owners = owners  # phrasing → entry position
        self._texts = texts
        self._norms = norms
        self._masses = masses
        self._postings = postings  # term → (idf, phrasing positions)
        self._unknown_idf = unknown_idf

    @classmethod
    def build(cls, docs: Iterable[Doc], analyzer: Analyzer) -> Index:
        entry_ids: list[str] = []
        owners: list[int] = []
        texts: list[str] = []
        phrasing_terms: list[set[str]] = []
        entry_frequency: dict[str, int] = {}
        for doc in docs:
            entry_terms: set[str] = set()
            for phrasing in dict.fromkeys((doc.question, *doc.similar)):
                terms = set(analyzer.terms(phrasing))
                if terms:
                    owners.append(len(entry_ids))
                    texts.append(phrasing)
                    phrasing_terms.append(terms)
                    entry_terms |= terms
            entry_ids.append(doc.entry_id)
            for term in entry_terms:
                entry_frequency[term] = entry_frequency.get(term, 0) + 1
        # Rarity counts entries, not phrasings: an entry that says 运费险 five ways does not make it common.
        count = len(entry_ids)
        idf = {term: _idf(count, frequency) for term, frequency in entry_frequency.items()}
        lengths = [sum(_weight(term) for term in terms) for terms in phrasing_terms]
        average = sum(lengths) / len(lengths) if lengths else 1.0
        postings: dict[str, tuple[float, list[int]]] = {term: (value, []) for term, value in idf.items()}
        for position, terms in enumerate(phrasing_terms):
            for term in terms:
                postings[term][1].append(position)
        # Figures are rounded as the artifact stores them, so a loaded index ranks exactly like a built one.
        return cls(
            entry_ids=entry_ids,
            owners=owners,
            texts=texts,
            norms=[round((_K1 + 1) / (1 + _K1 * (1 - _B + _B * length / average)), 4) for length in lengths],
            masses=[round(sum(_weight(term) * idf[term] for term in terms), 4) for terms in phrasing_terms],
            postings=postings,
            unknown_idf=_idf(count, 0.5),  # a word no entry uses weighs more than the rarest known one
        )

    def search(self, query: str, analyzer: Analyzer, limit: int = 5) -> list[Hit]:
        """One hit per entry, best first."""
        return self._rank(analyzer.terms(query), limit)

    def _rank(self, query_terms: list[str], limit: int) -> list[Hit]:
        scores: dict[int, float] = {}  # BM25 per phrasing
        overlaps: dict[int, float] = {}  # idf mass a phrasing shares with the query
        covered: dict[int, float] = {}  # idf mass an entry shares with the query, through any of its phrasings
        query_mass = 0.0
        for term in dict.fromkeys(query_terms):
            known = self._postings.get(term)
            if known is None:
                query_mass += self._unknown_mass(term)
                continue
            idf, positions = known
            mass = _weight(term) * idf
            query_mass += mass
            owners = set()
            for position in positions:
                scores[position] = scores.get(position, 0.0) + mass * self._norms[position]
                overlaps[position] = overlaps.get(position, 0.0) + mass
                owners.add(self._owners[position])
            for owner in owners:
                covered[owner] = covered.get(owner, 0.0) + mass
        best: dict[int, tuple[float, float, int]] = {}  # entry → (confidence, score, phrasing) of its best phrasing
        for position, score in scores.items():
            owner = self._owners[position]
            confidence = _confidence(covered[owner] / query_mass, overlaps[position] / self._masses[position])
            candidate = (confidence, score, position)
            if owner not in best or candidate > best[owner]:
                best[owner] = candidate
        return [
            Hit(
                entry_id=self._entry_ids[self._owners[position]],
                score=round(score, 4),
                confidence=round(confidence, 4),
                matched=self._texts[position],
            )
            for confidence, score, position in sorted(best.values(), reverse=True)[:limit]
        ]

    def _unknown_mass(self, term: str) -> float:
        """An unknown word is content no entry explains, as heavy as a known word with its bigrams would be.

        An unknown bigram weighs nothing: it is mostly the seam between two words.
        """
        if term.startswith(BIGRAM_MARK):
            return 0.0
        bigrams = len(term) - 1 if _is_cjk(term) else 0
        return self._unknown_idf * (1 + BIGRAM_WEIGHT * bigrams)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "entries": self._entry_ids,
            "owners": self._owners,
            "texts": self._texts,
            "norms": self._norms,
            "masses": self._masses,
            "postings": {term: [idf, positions] for term, (idf, positions) in self._postings.items()},
            "unknown_idf": self._unknown_idf,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Index:
        if data.get("format") != 1:
            raise ValueError(f"unsupported index format: {data.get('format')!r}")
        return cls(
            entry_ids=data["entries"],
            owners=data["owners"],
            texts=data["texts"],
            norms=data["norms"],
            masses=data["masses"],
            postings={term: (idf, positions) for term, (idf, positions) in data["postings"].items()},
            unknown_idf=data["unknown_idf"],
        )

    def __len__(self) -> int:
        return len(self._entry_ids)


def _idf(count: int, frequency: float) -> float:
    return round(math.log(1 + (count - frequency + 0.5) / (frequency + 0.5)), 4)


def _confidence(coverage: float, precision: float) -> float:
    """Geometric mean of how much of the query the entry explains and how much of the phrasing the query asks.

    Both are shares of idf mass, so the figure means the same for a two-word and a ten-word question.
    """
    return min(1.0, math.sqrt(coverage * precision))


# Tuned on tests/bench/data/bot_eval.jsonl: at 0.55 few answers are wrong; below 0.35 a best match is as
# likely chit-chat or a topic the knowledge base lacks as a paraphrase of an entry.
@dataclass(frozen=True)
class Thresholds:
    answer: float = 0.55
    suggest: float = 0.35


@dataclass(frozen=True)
class Decision:
    kind: str
    hits: tuple[Hit, ...]
    reason: str


def wants_person(text: str) -> bool:
    """An explicit request for a human agent, or a complaint only one can settle."""
    compact = "".join(text.lower().split())
    return (
        any(phrase in compact for phrase in (*HANDOVER_PHRASES, *ESCALATION_WORDS))
        or _ASKS_FOR_HUMAN.search(compact) is not None
    )


def decide(query: str, index: Index, analyzer: Analyzer, thresholds: Thresholds = Thresholds()) -> Decision:
    """Answer when sure, offer the close entries when unsure, hand over otherwise.

    A "no_match" handover keeps the weak hits, so the agent sees what the bot considered.
    """
    if wants_person(query):
        return Decision("handover", (), "asked_for_person")
    terms = analyzer.terms(query)
    if not terms:
        return Decision("handover", (), "empty")
    hits = index._rank(terms, limit=3)
    if not hits or hits[0].confidence < thresholds.suggest:
        return Decision("handover", tuple(hits), "no_match")
    if hits[0].confidence >= thresholds.answer:
        return Decision("answer", (hits[0],), "confident")
    return Decision("suggest", tuple(hit for hit in hits if hit.confidence >= thresholds.suggest), "unsure")
