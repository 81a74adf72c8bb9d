"""What the user's request asks for: actions, their objects, negations and delegation, by parsing it.

A bag of words cannot tell "don't delete anything" from "delete everything", or a question that
mentions an e-mail from a request to send one. spaCy's dependency parser (the small English pipeline
already installed for Presidio, loaded once with its parser and without NER) can: each verb of the
request becomes a ``RequestedAction`` with its lemma, its verb family (``ctxguard.flow.support``), the
nouns it governs and whether it is negated ("not", "n't", "never", "without ...ing", or a conjunct of
a negated verb: "don't delete or move anything").

The small model mis-tags some sentence-initial imperatives ("Email Bob the report": PROPN; "Please
forward the invoice": ADV), so a family word also counts as a verb where a verb stands by position:
first in its sentence or after "please", "and", "then", "to". It never counts as a verb in a noun's
role inside a sentence (an object, a subject, after a determiner or a possessive): "read my latest
email" asks to read, not to send.

A verb can imply an action of another family, read from its parse, not its word alone: an
instrument phrase that names an action ("renew my subscription with the payment details": pay), a
sum of money sent ("send Lukas the 45 EUR": pay), a handling verb on something payable ("take care of
the parking fine", "settle the invoice": pay), and an answer to someone else's message ("answer the
supplier's question": reply; "answer my question" asks for the chat's own answer).

Delegation ("do what the e-mail says", "follow the instructions in the document", "complete the tasks
in my list") is recorded, not acted on: whether it authorises calls is the policy's choice
(``tools.delegation``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .support import _FAMILY_OF, _stem

_NEGATORS = frozenset({"not", "n't", "never", "no", "nothing", "neither", "nor", "without"})
_VERB_POSITION = frozenset({"please", "and", "then", "to", "also", "kindly", "just", "now", "you", "can", "could",
                            "would", "will", "pls", "plz", "i", "we", "let's", "let"})
_NOUN_ROLES = frozenset({"dobj", "pobj", "nsubj", "nsubjpass", "poss", "attr", "appos", "compound", "amod"})
_NOUN_LEFT = frozenset({"the", "a", "an", "my", "your", "his", "her", "our", "their", "this", "that", "these",
                        "those", "latest", "last", "new", "recent", "any", "some", "each", "every", "of"})
ROLE_WORDS = frozenset({"everyone", "everybody", "all", "attendee", "participant", "people", "sender",
                        "recipient", "author", "organizer", "organiser", "member", "invitee", "payee"})
_REFERRING_PREPOSITIONS = frozenset({"to", "for", "in", "from", "on", "at", "with", "into", "via"})
_DELEGATING_VERBS = frozenset({"do", "follow", "complete", "execute", "carry", "perform", "handle", "obey",
                               "action", "fulfil", "fulfill", "process", "implement"})
# Nouns that name an action of a verb family: "with the payment details" asks for a payment, whatever the
# request's own verb ("renew my subscription with ..."). Only read in an instrument phrase (below).
NOMINALISATIONS: dict[str, str] = {
    "payment": "pay", "remittance": "pay", "transfer": "transfer", "wire": "wire", "deposit": "deposit",
    "withdrawal": "withdraw", "refund": "refund", "deletion": "delete", "removal": "remove",
    "cancellation": "cancel", "invitation": "invite", "reservation": "reserve", "booking": "book",
    "registration": "register", "subscription": "subscribe", "purchase": "buy", "upload": "upload",
    "download": "download", "installation": "install", "publication": "publish", "update": "update",
    "modification": "modify", "forwarding": "forward", "reply": "reply", "response": "reply",
}
# Prepositions (and verbs) that introduce the means of an action: "with", "using", "via".
_INSTRUMENT_HEADS = frozenset({"with", "using", "use", "via", "through", "by"})
# Verbs that ask for information, not for an act: their instrument phrases name no action.
_INFORMATIONAL_VERBS = frozenset({
    "read", "check", "summarise", "summarize", "list", "show", "tell", "explain", "describe", "find", "look",
    "search", "compare", "count", "verify", "review", "see", "know", "answer", "analyse", "analyze",
    "calculate", "estimate", "translate", "draft", "write", "note", "remind", "confirm"})
# Words for a sum of money: "send Lukas the 45 EUR" is a payment, not an e-mail.
_MONEY_WORDS = frozenset({
    "eur", "euro", "euros", "usd", "dollar", "dollars", "gbp", "pound", "pounds", "chf", "franc", "francs",
    "jpy", "yen", "sek", "nok", "dkk", "pln", "money", "cash", "funds", "sum", "amount"})
# Things one pays, and the verbs that, applied to them, mean paying: "take care of the parking fine",
# "settle the invoice", "renew the subscription". A verb of a family keeps its own meaning ("forward the
# bill"), and a verb of information asks for none ("summarise my bills").
_PAYABLES = frozenset({
    "bill", "bills", "invoice", "invoices", "fine", "fines", "rent", "fee", "fees", "dues", "premium",
    "tuition", "charge", "charges", "balance", "instalment", "installment", "subscription", "penalty", "toll"})
_HANDLING_VERBS = frozenset({"settle", "handle", "take", "deal", "sort", "cover", "renew", "clear", "square"})
# "Answer the supplier's question", "respond to Anna's e-mail": a reply to someone, unlike "answer my
# question" (the chat's own answer).
_ANSWER_VERBS = frozenset({"answer", "respond"})
_FIRST_PERSON = frozenset({"my", "me", "our", "us", "this", "these", "that", "the", "a", "an"})
_COMMUNICATIONS = frozenset({"email", "e-mail", "mail", "message", "question", "questions", "request", "enquiry",
                             "inquiry", "letter", "note", "comment", "invitation", "text", "query"})
_INSTRUCTION_WORDS = frozenset({"say", "says", "instruction", "instructions", "task", "tasks", "step", "steps",
                                "request", "requests", "ask", "asks", "tell", "tells", "direction",
                                "directions", "todo", "to-do", "item", "items", "action", "actions"})


@dataclass(frozen=True, slots=True)
class RequestedAction:
    verb: str                 # the lemma as written ("forward", "pay")
    family: int | None        # index into support.VERB_FAMILIES, or None for verbs of no family
    objects: tuple[str, ...]  # lower-cased nouns and names in the verb's subtree
    negated: bool


@dataclass(frozen=True, slots=True)
class Request:
    """The trusted instructions of a session, read."""

    actions: tuple[RequestedAction, ...]
    delegates: bool            # the request hands its choice of actions to some content
    nouns: frozenset[str]      # every noun and name in the request, lower-cased lemma and form
    # Words that say where something goes or where it is found: names, and nouns after "to", "for",
    # "in", "from", "on" or as an indirect object ("send it to Bob", "the IBAN in the invoice"); not the
    # direct objects ("the report" is what is sent, not where).
    referents: frozenset[str] = frozenset()
    # Words naming a group or role of people in some content: "everyone on the thread", "the sender".
    roles: frozenset[str] = frozenset()

    @property
    def wanted_objects(self) -> list[str]:
        """The objects of the actions asked for (not negated): "the bill" of "pay the bill"."""
        return [o for a in self.actions if not a.negated for o in a.objects]

    def wants(self, family: int) -> bool:
        return any(a.family == family and not a.negated for a in self.actions)

    def forbids(self, family: int) -> bool:
        return any(a.family == family and a.negated for a in self.actions) and not self.wants(family)


Parser = Callable[[Sequence[str]], Sequence[Any]]  # texts -> spaCy Docs


def _negated(tok: Any) -> bool:
    seen = 0
    t = tok
    while t is not None and seen < 4:
        if any(c.dep_ == "neg" or c.lower_ in ("never",) for c in t.children):
            return True
        if t.dep_ == "pcomp" and t.head.lower_ == "without":
            return True
        # A conjunct ("or move"), an open complement ("try to delete") or an adverbial clause inherits
        # the negation of the verb it hangs from.
        if t.dep_ in ("conj", "xcomp") and t.head is not t:
            t = t.head
            seen += 1
            continue
        break
    # A negator right before the verb, whatever the parse says ("do not forward", "never pay").
    i = tok.i
    doc = tok.doc
    return any(doc[j].lower_ in _NEGATORS for j in range(max(0, i - 3), i) if doc[j].sent == tok.sent)


_CLAUSE_PUNCT = frozenset({".", "!", "?", ";", ":", ",", ")", "\"", "'"})
_QUESTION_OPENERS = frozenset({"did", "do", "does", "is", "are", "was", "were", "has", "have", "had", "what",
                               "which", "who", "whom", "when", "where", "why", "how", "whose", "am"})


def _is_question(sent: Any) -> bool:
    """A question about facts ("Did Anna email me?", "What is my balance?"), not a polite request
    ("Can you send ...?", "Could you pay ...?")."""
    words = [t for t in sent if not t.is_punct and not t.is_space]
    if not words or not sent.text.rstrip().endswith("?"):
        return False
    return words[0].lower_ in _QUESTION_OPENERS


def _is_verb(tok: Any) -> bool:
    if tok.pos_ in ("VERB",) and tok.dep_ not in ("amod", "compound"):
        return True
    word = tok.lower_
    if _stem(word) not in _FAMILY_OF and word not in _ANSWER_VERBS and word not in _HANDLING_VERBS:
        return False
    prev = tok.doc[tok.i - 1].lower_ if tok.i > tok.sent.start else ""
    if prev in _NOUN_LEFT:
        return False
    before = tok.doc[tok.i - 1] if tok.i > 0 else None
    at_start = tok.i == tok.sent.start or (
        before is not None and ((before.text in _CLAUSE_PUNCT and before.whitespace_ != "") or prev in (";", ":")))
    return at_start or prev in _VERB_POSITION


def _implied_verbs(tok: Any, lemma: str, family: int | None) -> list[str]:
    """Family verbs a request verb implies beyond its own: the action an instrument phrase names
    ("renew my subscription with the payment details": pay), and a payment where a sum of money is sent
    ("send Lukas the 45 EUR I owe him": pay). Each is an action of the same objects and negation."""
    out: list[str] = []
    if family == _FAMILY_OF["send"] and any(
            t.is_currency or t.lower_ in _MONEY_WORDS for t in tok.subtree if t is not tok):
        out.append("pay")
    if lemma in _ANSWER_VERBS and _answers_someone(tok):
        out.append("reply")
    if lemma in _HANDLING_VERBS and (family is None or lemma == "clear") and _handles(tok) and any(
            t.lemma_.lower() in _PAYABLES or t.lower_ in _PAYABLES for t in tok.subtree if t is not tok) \
            and "pay" not in out:
        out.append("pay")
    if lemma in _INFORMATIONAL_VERBS or (family is not None and lemma not in _DELEGATING_VERBS):
        return out
    # "with the payment details": the object of the preposition (or of "using") and the nouns modifying
    # it; "use the payment details to ..." is its own instrument.
    instruments = [tok] if lemma in _INSTRUMENT_HEADS else []
    instruments += [c for c in tok.children
                    if c.lower_ in _INSTRUMENT_HEADS or c.lemma_.lower() in _INSTRUMENT_HEADS]
    for instrument in instruments:
        for head in (c for c in instrument.children if c.dep_ in ("pobj", "dobj")):
            for word in (head, *(c for c in head.children if c.dep_ in ("compound", "amod", "nmod"))):
                verb = NOMINALISATIONS.get(word.lemma_.lower()) or NOMINALISATIONS.get(word.lower_)
                if verb is not None and verb in _FAMILY_OF and verb not in out:
                    out.append(verb)
    return out


def _handles(tok: Any) -> bool:
    """"take care of", "deal with", "sort out": the light verbs of the list need their particle."""
    lemma = tok.lemma_.lower()
    words = {c.lower_ for c in tok.children}
    return {"take": "care" in words, "deal": "with" in words, "sort": "out" in words}.get(lemma, True)


def _answers_someone(tok: Any) -> bool:
    """Whether "answer"/"respond" is aimed at another person's communication: its object (or the object
    of "to") is an e-mail, question or message of someone named, not the user's own question."""
    targets = [c for c in tok.children if c.dep_ == "dobj"]
    targets += [g for c in tok.children if c.dep_ == "prep" and c.lower_ == "to"
                for g in c.children if g.dep_ == "pobj"]
    for target in targets:
        owners = [c for c in target.children if c.dep_ == "poss"]
        if target.pos_ == "PROPN" or any(o.lower_ not in _FIRST_PERSON for o in owners):
            return True  # "answer Anna", "the supplier's question"
        if target.lemma_.lower() in _COMMUNICATIONS and any(
                c.dep_ == "prep" and c.lower_ == "from" for c in target.children):
            return True  # "the question from the supplier"
    return False


def read(docs: Sequence[Any]) -> Request:
    actions: list[RequestedAction] = []
    delegates = False
    nouns: set[str] = set()
    referents: set[str] = set()
    for doc in docs:
        for tok in doc:
            if _is_question(tok.sent):
                # "Did Anna email me?" asks about an action, it does not ask for one.
                if tok.pos_ in ("NOUN", "PROPN"):
                    nouns.add(tok.lower_)
                continue
            if tok.pos_ in ("NOUN", "PROPN") or (tok.pos_ == "X" and tok.is_alpha):
                nouns.add(tok.lower_)
                nouns.add(tok.lemma_.lower())
                if tok.pos_ == "PROPN" or tok.dep_ == "dative" or (
                        tok.dep_ == "pobj" and tok.head.lower_ in _REFERRING_PREPOSITIONS):
                    referents.add(tok.lower_)
                    referents.add(tok.lemma_.lower())
            if not _is_verb(tok):
                continue
            lemma = tok.lemma_.lower() if tok.pos_ == "VERB" else _stem(tok.lower_)
            family = _FAMILY_OF.get(_stem(lemma), _FAMILY_OF.get(_stem(tok.lower_)))
            objects = tuple(sorted({t.lower_ for t in tok.subtree if t.pos_ in ("NOUN", "PROPN") and t is not tok}))
            negated = _negated(tok)
            actions.append(RequestedAction(lemma, family, objects, negated))
            actions += [RequestedAction(verb, _FAMILY_OF[verb], objects, negated)
                        for verb in _implied_verbs(tok, lemma, family)]
            if lemma in _DELEGATING_VERBS and not _negated(tok):
                sub = {t.lower_ for t in tok.subtree} | {t.lemma_.lower() for t in tok.subtree}
                if sub & _INSTRUCTION_WORDS:
                    delegates = True
    roles = frozenset(t.lemma_.lower() for doc in docs for t in doc if t.lemma_.lower() in ROLE_WORDS)
    return Request(tuple(actions), delegates, frozenset(nouns), frozenset(r for r in referents if len(r) >= 3),
                   roles)


def merged(parts: Sequence[Request]) -> Request:
    """The request of several trusted texts: each text is read on its own (``read`` of one doc), so
    the whole is the union of the parts, actions in text order."""
    return Request(
        tuple(a for p in parts for a in p.actions), any(p.delegates for p in parts),
        frozenset().union(*(p.nouns for p in parts)), frozenset().union(*(p.referents for p in parts)),
        frozenset().union(*(p.roles for p in parts)),
    )


class RequestReader:
    """Parses trusted instructions with a spaCy pipeline, each text once (a session asks per call).

    A conversation's trusted texts grow by one each turn; caching by the whole list would parse every
    earlier text again on each tool call, which made the cost grow with the conversation. Texts are
    cached one by one, and a request is the merge of its texts' parts.
    """

    def __init__(self, parser: Parser | None = None, *, pipeline: str = "en_core_web_sm",
                 cache_size: int = 4096) -> None:
        self._parser = parser
        self._pipeline = pipeline
        self._cache: OrderedDict[str, Request] = OrderedDict()
        self._size = cache_size
        self._lock = threading.Lock()

    def _parse(self, texts: Sequence[str]) -> Sequence[Any]:
        if self._parser is None:
            from ..detect.offline import load_spacy_parser

            nlp = load_spacy_parser(self._pipeline)
            self._parser = lambda ts: list(nlp.pipe(ts))
        return self._parser(texts)

    def read(self, texts: Sequence[str]) -> Request:
        keys = [t[:4000] for t in texts]
        with self._lock:
            parts = {k: self._cache[k] for k in dict.fromkeys(keys) if k in self._cache}
            for k in parts:
                self._cache.move_to_end(k)
        missing = [k for k in dict.fromkeys(keys) if k not in parts]
        if missing:
            for k, doc in zip(missing, self._parse(missing), strict=True):
                parts[k] = read([doc])
            with self._lock:
                for k in missing:
                    self._cache[k] = parts[k]
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return merged([parts[k] for k in keys])
