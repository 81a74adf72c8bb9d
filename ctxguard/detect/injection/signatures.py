"""Phrases and syntax that have no business inside data: overrides, fake turns, chat-template tokens,
tool-call syntax, role-play framing.

Each is a named RE2 pattern with a fixed score, a table rather than code, so adding one is one row.
Scores above 0.5 (the policy's default threshold) are for forms that benign text practically never
takes; the benchmark's negatives (NotInject's trigger-word prompts, real e-mails, StackOverflow
answers) keep them honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._patterns import compile_linear


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    pattern: Any
    score: float


def _sig(name: str, pattern: str, score: float, *, ignore_case: bool = True) -> Signature:
    return Signature(name, compile_linear(pattern, ignore_case=ignore_case), score)


# Verbs of tools that act for someone (not read_/get_/set_, which every codebase is full of).
_TOOL_VERB_PREFIX = r"(?:send|transfer|forward|email|mail|grant|share|upload|pay|unlock|wire|withdraw|deposit|invoke)"

SIGNATURES: tuple[Signature, ...] = (
    _sig("override", r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|"
         r"all|any|your)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules|directions|guidelines)\b", 0.95),
    _sig("new_instructions", r"\b(?:new|updated|real|actual)\s+(?:instructions?|task|orders)\s*:", 0.8),
    _sig("follow_instruction", r"\b(?:strictly\s+)?(?:adhere\s+to|follow|obey|execute)\s+(?:the|these)\s+"
         r"(?:following|below|new)\s+(?:instructions?|commands?|orders)\b", 0.7),
    # A conversation turn opening a line: "System:", "### Assistant:", "[USER]", "<system>".
    _sig("fake_turn", r"(?:^|\n)[ \t]*(?:#{1,3}[ \t]*)?(?:system|assistant|developer)[ \t]*(?:message|prompt)?"
         r"[ \t]*:", 0.7),
    _sig("fake_turn", r"(?:^|\n)[ \t]*(?:#{1,3}[ \t]*)?(?:user|human|tool|function)[ \t]*(?:message|output)?[ \t]*:"
         r"[^\n]{0,200}\n[ \t]*(?:#{1,3}[ \t]*)?(?:assistant|ai|system)[ \t]*:", 0.8),
    _sig("fake_turn", r"\[/?(?:SYSTEM|ASSISTANT|USER|TOOL)\]|</?(?:system|assistant|user|tool)(?:_message)?>",
         0.85, ignore_case=False),
    _sig("template_token", r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
         r"end_header_id|tool_call|python_tag)\|>|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>", 0.95),
    # Tool-call syntax inside data: the shapes models are trained to emit when they call a tool.
    _sig("tool_call_syntax", r"</?(?:tool_call|tool_use|function_call|function_calls|invoke|tool_code)\b[^>]{0,80}>|"
         r"<function=[\w.-]{1,80}>", 0.85),
    _sig("tool_call_syntax", r"[{,]\s*[\"'](?:tool|tool_name|function|function_call|tool_calls|recipient_name)[\"']"
         r"\s*:\s*[\[{\"']", 0.6),
    _sig("tool_call_syntax", r"\b" + _TOOL_VERB_PREFIX + r"_[a-z][a-z0-9_]{1,40}\s*\(\s*(?:[a-z_]{1,30}\s*=|[\"'])",
         0.6),
    _sig("addressed_to_ai", r"\b(?:AI|assistant|agent|model|chatbot|LLM)\b[^.\n]{0,30}?\b(?:must|should|need to|"
         r"are required to|please)\b[^.\n]{0,60}?\b(?:send|forward|email|transfer|delete|execute|run|call|"
         r"reveal|share|post|upload)\b", 0.75),
    _sig("addressed_to_ai", r"(?:^|[.!?\n]\s*)(?:dear\s+|hey\s+|hi\s+|attention\s+)?(?:AI|assistant|agent|"
         r"AI\s+assistant|language\s+model|LLM|chatbot)\s*[,:!]\s*(?:please\s+|you\s+)", 0.75),
    _sig("role_play", r"\byou are (?:now|no longer)\b|\bact as (?:an?|the) (?:unrestricted|jailbroken|"
         r"developer mode)\b|\bDAN mode\b|\bfrom now on,? you (?:are|will|must)\b", 0.8),
    # Overrides of the reader's task, not only of its "instructions": "disregard your earlier task",
    # "your only job now is to ...".
    _sig("override", r"\b(?:ignore|disregard|forget|abandon|drop|skip|override|set\s+aside|stop\s+(?:doing|following))\b"
         r"[^.\n]{0,30}?\b(?:previous|prior|above|earlier|original|initial|current|your|the\s+user'?s?)\b[^.\n]{0,20}?"
         r"\b(?:task|tasks|goal|assignment|objective|job|mission|request|context|conversation|orders?)\b", 0.9),
    _sig("new_instructions", r"\byour\s+(?:only|new|real|actual|true|sole|primary|first)\s+(?:job|task|goal|mission|"
         r"objective|purpose|priority)\s+(?:now\s+|here\s+|from\s+now\s+on\s+)?is\b", 0.85),
    # The same classes in other languages: overrides, notes addressed to the assistant, and orders to
    # keep the user in the dark (which no benign text addressed to a human reader gives).
    _sig("override", r"\b(?:ignore[rsz]?|oublie[rsz]?|ne\s+tiens?\s+pas\s+compte)\b[^.\n]{0,40}?(?:instructions?|"
         r"consignes?|règles|directives|tâches?|ordres|indications)\b", 0.9),
    _sig("override", r"\b(?:ignorier\pL*|vergiss\pL*|vergessen|missacht\pL*)\b[^.\n]{0,40}?(?:anweisung\pL*|"
         r"anleitung\pL*|regeln|vorgaben|aufgabe\pL*|befehl\pL*|instruktion\pL*)\b", 0.9),
    _sig("override", r"\b(?:ignora\pL*|olvida\pL*|omite\pL*|haz\s+caso\s+omiso|dimentica\pL*|esque[cç]\pL*|"
         r"desconsider\pL*)\b[^.\n]{0,40}?(?:instrucci\pL+|istruzion\pL+|instru[cç]\pL+|reglas|regole|regras|"
         r"indicaciones|indicazioni|orienta[cç]\pL+|tarea|compito|tarefa|órdenes|ordini|ordens|directrices|direttive|"
         r"diretrizes)\b", 0.9),
    _sig("override", r"(?:^|[^\pL])(?:игнорируй\pL*|забудь\pL*|не\s+обращай\s+внимания)[^.\n]{0,40}?(?:инструкци\pL+|правил\pL*|"
         r"указани\pL+|задач\pL*)", 0.9),
    _sig("override", r"(?:忽略|无视|無視|忘记|忘掉|忘記|不要理会|不用理会|无需理会|不必理会)[^。！？\n]{0,16}?(?:指令|指示|说明|"
         r"說明|规则|規則|要求|任务|任務|提示|命令)|(?:指示|命令|ルール|指令|プロンプト|タスク)[^。！？\n]{0,16}?(?:無視|忘れ)", 0.9),
    _sig("addressed_to_ai", r"\b(?:note|message|hinweis|nachricht|nota|mensaje|messaggio|mensagem|remarque|aviso|"
         r"anmerkung)\s+(?:pour|à|für|an|para|per|to|for|al|ao|à)\s+(?:l'|le\s+|la\s+|den\s+|die\s+|der\s+|el\s+|"
         r"il\s+|lo\s+|o\s+|a\s+|the\s+)?(?:ia\s+|ki-|ai\s+)?(?:assistant\pL*|assistente|asistente|ia|ki|ai|agent\pL*|"
         r"modèle|modell|modelo|modello|llm|bot|chatbot)\b", 0.75),
    _sig("addressed_to_ai", r"(?:给|致|写给)(?:AI|人工智能)?(?:助手|助理|模型|智能体|机器人)|(?:AI|人工智能)?(?:助手|助理)(?:请|，\s*请|:|：)"
         r"|(?:AI|アシスタント|エージェント)(?:へ|さんへ|に)(?:の)?(?:注意|メモ|メッセージ|指示)", 0.75),
    _sig("secrecy", r"\bwithout\s+(?:telling|informing|notifying|alerting|asking|warning|bothering)\s+(?:the\s+)?(?:user|"
         r"owner|account\s+holder)\b|\b(?:do\s+not|don'?t|never)\s+let\s+the\s+(?:user|owner)\s+(?:know|see|notice)\b", 0.8),
    _sig("secrecy", r"\bsans\s+(?:en\s+)?(?:parler|informer|prévenir|avertir|le\s+dire|demander)\s+(?:à\s+)?(?:l'utilisateur|"
         r"l'usager|au\s+propriétaire)|\bne\s+(?:le\s+)?dis\s+rien\s+à\s+l'utilisateur|\bohne\s+(?:den|die|dem)\s+"
         r"(?:nutzer|benutzer|anwender|kunden)\pL*\s+zu\s+(?:fragen|informieren|benachrichtigen|sagen|warnen)|\bsag\pL*\s+dem\s+"
         r"(?:nutzer|benutzer)\pL*\s+nichts|\b(?:sin|no\s+se\s+lo|no\s+le)\s+(?:decir|avisar|informar|menciones|digas|"
         r"preguntar|comentes)\pL*\s+(?:nada\s+)?(?:al|a\s+el)?\s*usuario|\bsenza\s+(?:dire|avvisare|informare|chiedere)\pL*\s+"
         r"(?:nulla\s+)?(?:all'|a\s+l')?utente|\bsem\s+(?:avisar|informar|contar|perguntar)\pL*\s+(?:nada\s+)?(?:ao\s+)?usu[áa]rio",
         0.8),
    _sig("secrecy", r"(?:不要|别|別|无需|不必|不用)(?:告诉|告訴|通知|提醒|询问|詢問)(?:用户|用戶|使用者)|ユーザーに(?:は)?(?:何も)?"
         r"(?:言わず|伝えず|知らせず|言わない|伝えない)", 0.8),
    # Classes of attack that carry no override phrase, each as its shape (not one benchmark's wording):
    # a precondition on the reader's task, extraction of its prompt or secrets, a forced reply, a fake
    # end-of-data delimiter, a claim that the earlier guidance is void, and unrestricted-persona set-ups.
    _sig("task_precondition", r"\bbefore\s+(?:you\s+)?(?:can\s+|could\s+|start\s+|begin\s+|go\s+on\s+to\s+)?(?:solv|complet|"
         r"continu|answer|proceed|finish|do|start|handl|process|summari[sz]|respond|repl)\w*\s+(?:with\s+|to\s+|on\s+)?"
         r"(?:the|your|this|my|that|any|their)\b[^.\n]{0,30}?\b(?:task|request|job|question|assignment|query|"
         r"instructions?|work|answer|summary)\b[^.\n]{0,60}?\b(?:send|e-?mail|forward|transfer|wire|pay|delete|remove|"
         r"share|post|upload|grant|reveal|export|download|visit|open|click|call|run|execute|install|change|update|"
         r"disable|unlock|invite|add)\b", 0.8),
    _sig("prompt_extraction", r"\b(?:repeat|print|reveal|show|output|display|dump|leak|recite|tell|give|list|paste|copy|"
         r"share|write|what\s+(?:are|were|is))\b[^.\n]{0,40}?\b(?:your|the)\s+(?:initial|original|hidden|secret|system|"
         r"previous|first|full|complete|exact|internal)\s+(?:instructions|prompt|rules|guidelines|directives|"
         r"configuration|message|context)\b", 0.75),
    _sig("prompt_extraction", r"\b(?:repeat|print|reveal|show|output|display|dump|leak|recite|paste|copy)\b[^.\n]{0,30}?"
         r"\bsystem\s+(?:prompt|message|instructions)\b", 0.75),
    _sig("prompt_extraction", r"\b(?:repeat|print|output|copy|recite|echo)\s+(?:back\s+)?(?:all\s+of\s+|everything\s+|"
         r"the\s+(?:text|words|content|messages?|lines)\s+)?(?:above|before\s+this|preceding|prior\s+to\s+this)\b", 0.75),
    _sig("secret_request", r"\b(?:reveal|tell|give|share|print|output|disclose|leak|send)\s+(?:me\s+|us\s+)?(?:the|your|"
         r"any)\s+(?:secret|password|passcode|api\s+keys?|credentials|access\s+code|private\s+key|key)s?\s+(?:you\s+"
         r"(?:were|have\s+been|are)\s+(?:given|told|provided|holding|storing)|(?:(?:stored|kept|saved|held)\s+)?"
         r"(?:in|from)\s+your\s+(?:instructions|"
         r"prompt|configuration|memory|context|settings))", 0.85),
    _sig("forced_reply", r"\b(?:say|respond|reply|answer|output|print|write|return)\s+(?:only|just|exactly|simply|nothing\s+but)"
         r"\s+(?:with\s+)?(?:the\s+(?:word|words|phrase|string|text|sentence)\s+)?\S", 0.75),
    _sig("forced_reply", "\\b(?:say|respond|reply|answer|output|print|write|return)\\s+(?:with\\s+)?(?:the\\s+(?:word|phrase|"
         "string|text)\\s+)?[\"'\u201c\u2018][^\"'\u201d\u2019\\n]{1,60}[\"'\u201d\u2019]\\s*,?\\s*(?:and\\s+nothing\\s+(?:else|more)|only\\b|"
         "with\\s+nothing\\s+else)", 0.75),
    _sig("fake_delimiter", r"(?:^|\n)[ \t]*[=\-#*_~%<>\[\]]{3,}[ \t]*(?:end|begin|start)\s+(?:of\s+)?(?:the\s+)?(?:document|"
         r"text|input|context|data|e-?mail|message|conversation|user\s+input|instructions?|system\s+prompt|"
         r"tool\s+output|search\s+results?)\b", 0.6),
    _sig("void_guidance", r"\b(?:previous|prior|earlier|above|original|old|initial)\s+(?:guidance|instructions?|rules|"
         r"directions|guidelines|prompt)\s+(?:is|are|was|were|has\s+been|have\s+been)\s+"
         r"(?:now\s+)?(?:outdated|obsolete|revoked|void|invalid|superseded|no\s+longer\s+(?:valid|"
         r"apply|applies|in\s+effect))", 0.7),
    _sig("void_guidance", r"\btreat\s+(?:every|all|any|each)\s+(?:request|instruction|command|message)s?\s+as\s+"
         r"(?:pre-?)?(?:authori[sz]ed|approved|legitimate|safe|trusted)", 0.8),
    # Not "pretend to be a tour guide": benign prompts play roles all the time (NotInject).
    _sig("role_play", r"\byou\s+(?:have|now\s+have)\s+no\s+"
         r"(?:restrictions|limitations|rules|filters|guidelines|ethical)|\b(?:without|free\s+of|ignoring)\s+(?:any\s+|all\s+|"
         r"your\s+)?(?:restrictions|limitations|content\s+polic(?:y|ies)|safety\s+guidelines|filters)\b", 0.7),
    _sig("urgent_imperative", r"\b(?:IMPORTANT|URGENT|ATTENTION)\s*[!:]{1,5}[^.\n]{0,80}?\b(?:you|assistant)\b", 0.6),
)
