"""What the five instruments share: choice lists, metadata, participant
linkage, the consent gate, and the place and role questions (preloaded from
the previous round where the brief asks for it).
"""

from . import places
from .xlsform import Choice, T, begin_group, calc, end_group, note, q, Row

VERSION = "2026112901"

# ---------------------------------------------------------------- choice lists


def choices(*pairs):
    """choices(("yes", T(...)), ...) -> [Choice]"""
    return [Choice(name, label) for name, label in pairs]


OTHER = T("Other (specify)", "Outro (especifique)", "অন্যান্য (উল্লেখ করুন)")
NONE_OF_THESE = T("None", "Nenhum", "কোনোটিই নয়")

YES_NO = choices(
    ("yes", T("Yes", "Sim", "হ্যাঁ")),
    ("no", T("No", "Não", "না")),
)

YES_NO_UNSURE = choices(
    ("yes", T("Yes", "Sim", "হ্যাঁ")),
    ("no", T("No", "Não", "না")),
    ("unsure", T("Not sure", "Não tenho a certeza", "নিশ্চিত নই")),
)

ROUNDS = choices(
    ("baseline", T("Baseline (before or at the P2P event)", "Linha de base (antes ou durante o evento P2P)",
                   "বেসলাইন (P2P অনুষ্ঠানের আগে বা চলাকালীন)")),
    ("round2", T("Round 2 (about 6 months after the event)", "Ronda 2 (cerca de 6 meses após o evento)",
                 "রাউন্ড ২ (অনুষ্ঠানের প্রায় ৬ মাস পর)")),
    ("round3", T("Round 3 (about 12 months after the event)", "Ronda 3 (cerca de 12 meses após o evento)",
                 "রাউন্ড ৩ (অনুষ্ঠানের প্রায় ১২ মাস পর)")),
)

ROLES = choices(
    ("technical", T("Technical staff (engineer, technician)", "Técnico/a (engenheiro/a, técnico/a)",
                    "কারিগরি কর্মী (প্রকৌশলী, টেকনিশিয়ান)")),
    ("planner", T("Planner (urban or sanitation planning)", "Planificador/a (planeamento urbano ou de saneamento)",
                  "পরিকল্পনাবিদ (নগর বা স্যানিটেশন পরিকল্পনা)")),
    ("finance", T("Finance or budget officer", "Técnico/a de finanças ou orçamento", "অর্থ বা বাজেট কর্মকর্তা")),
    ("elected", T("Elected official (mayor, councillor)",
                  "Eleito/a ou dirigente municipal (presidente do conselho municipal, vereador/a, membro da assembleia municipal)",
                  "নির্বাচিত জনপ্রতিনিধি (মেয়র, কাউন্সিলর)")),
    ("manager", T("Manager or head of department", "Gestor/a ou chefe de departamento",
                  "ব্যবস্থাপক বা বিভাগীয় প্রধান")),
    ("health_env", T("Health, environment or sanitation officer (e.g. sanitary inspector)",
                     "Técnico/a de saúde, ambiente ou saneamento (p. ex. fiscal sanitário)",
                     "স্বাস্থ্য, পরিবেশ বা স্যানিটেশন কর্মকর্তা (যেমন স্যানিটারি ইন্সপেক্টর)")),
    ("admin", T("Administrative staff", "Pessoal administrativo", "প্রশাসনিক কর্মী")),
    ("other", OTHER),
)

# The team replaces these with the real events of each case before fieldwork.
EVENTS = choices(
    ("mz_event1", T("Mozambique: municipal P2P exchange, event 1", "Moçambique: intercâmbio P2P entre municípios, evento 1",
                    "মোজাম্বিক: পৌর P2P বিনিময়, অনুষ্ঠান ১")),
    ("mz_event2", T("Mozambique: municipal P2P exchange, event 2", "Moçambique: intercâmbio P2P entre municípios, evento 2",
                    "মোজাম্বিক: পৌর P2P বিনিময়, অনুষ্ঠান ২")),
    ("bd_event1", T("Bangladesh: pourashava P2P exchange visit", "Bangladesh: visita de intercâmbio P2P entre pourashavas",
                    "বাংলাদেশ: পৌরসভাগুলোর মধ্যে P2P বিনিময় সফর")),
    ("other", T("Other event (specify)", "Outro evento (especifique)", "অন্য অনুষ্ঠান (উল্লেখ করুন)")),
)

# Sanitation topics: prior training, intended application, areas of change.
TOPICS = choices(
    ("planning", T("Sanitation planning", "Planeamento do saneamento", "স্যানিটেশন পরিকল্পনা")),
    ("fsm", T("Faecal sludge management (containment to reuse or disposal)",
              "Gestão de lamas fecais (da contenção à reutilização ou deposição final)",
              "মলবর্জ্য (ফিকাল স্লাজ) ব্যবস্থাপনা (ধারণ থেকে পুনর্ব্যবহার বা নিষ্কাশন পর্যন্ত)")),
    ("finance", T("Budgeting and finance", "Orçamento e finanças", "বাজেট ও অর্থায়ন")),
    ("tariffs", T("Tariffs and cost recovery", "Tarifas e recuperação de custos", "ট্যারিফ (মাশুল) ও ব্যয় পুনরুদ্ধার")),
    ("contracting", T("Contracting private service providers", "Contratação de prestadores privados de serviços",
                      "বেসরকারি সেবাদানকারীর সাথে চুক্তি")),
    ("bylaws", T("By-laws and regulation", "Posturas municipais e regulamentação", "উপ-আইন ও নিয়ন্ত্রণ")),
    ("monitoring", T("Monitoring and data", "Monitoria e dados", "পরিবীক্ষণ ও তথ্য-উপাত্ত")),
    ("community", T("Community engagement", "Envolvimento comunitário", "জনসম্পৃক্ততা")),
    ("equity", T("Equity and inclusion", "Equidade e inclusão", "সমতা ও অন্তর্ভুক্তি")),
    ("climate", T("Climate resilience", "Resiliência climática", "জলবায়ু সহনশীলতা")),
    ("other", OTHER),
)

BARRIERS = choices(
    ("finance", T("Lack of financial resources", "Falta de recursos financeiros", "আর্থিক সম্পদের অভাব")),
    ("political", T("Lack of political support", "Falta de apoio político", "রাজনৈতিক সমর্থনের অভাব")),
    ("turnover", T("Staff turnover", "Rotatividade do pessoal", "কর্মীদের ঘন ঘন বদলি বা চাকরি ছেড়ে যাওয়া")),
    ("skills", T("Lack of skills", "Falta de competências", "দক্ষতার অভাব")),
    ("equipment", T("Lack of equipment", "Falta de equipamento", "যন্ত্রপাতির অভাব")),
    ("time", T("Lack of time / heavy workload", "Falta de tempo / excesso de trabalho",
               "সময়ের অভাব / কাজের চাপ")),
    ("procedures", T("Rules, procedures or approvals", "Regras, procedimentos ou aprovações",
                     "নিয়মকানুন, পদ্ধতি বা অনুমোদন")),
    ("other", OTHER),
    ("none", T("No barriers", "Nenhuma barreira", "কোনো বাধা নেই")),
)

ENABLERS = choices(
    ("leadership", T("Support from leadership (mayor, council, managers)",
                     "Apoio da liderança (presidente, conselho municipal, gestores)",
                     "নেতৃত্বের সমর্থন (মেয়র, পরিষদ, ব্যবস্থাপক)")),
    ("peer_network", T("Continued contact with peers", "Contacto contínuo com os pares",
                       "সহকর্মীদের (পিয়ার) সাথে নিয়মিত যোগাযোগ")),
    ("budget", T("A dedicated budget", "Um orçamento próprio", "নির্দিষ্ট বাজেট বরাদ্দ")),
    ("trained_staff", T("Trained and motivated staff", "Pessoal formado e motivado", "প্রশিক্ষিত ও উদ্যমী কর্মী")),
    ("partners", T("Support from donors, NGOs or partners", "Apoio de doadores, ONG ou parceiros",
                   "দাতা সংস্থা, এনজিও বা সহযোগীদের সহায়তা")),
    ("national_policy", T("National policy or regulation", "Política ou regulamentação nacional",
                          "জাতীয় নীতি বা বিধিমালা")),
    ("community_demand", T("Demand from the community", "Procura por parte da comunidade", "জনগণের চাহিদা")),
    ("other", OTHER),
    ("none", T("No enablers", "Nenhum facilitador", "কোনো সহায়ক বিষয় নেই")),
)

# ---------------------------------------------------------------- row blocks


def metadata() -> list[Row]:
    """ODK metadata every instrument records."""
    return [
        Row("start", "start"),
        Row("end", "end"),
        Row("today", "today"),
        Row("deviceid", "deviceid"),
        Row("username", "username"),
    ]


PARTICIPANT_ID_RULE = "regex(., '^[A-Z]{2}-[0-9]{4}$')"


def linkage(round_filter: str = "", id_hint: T | None = None, round_label: T | None = None) -> list[Row]:
    """participant_id and round: how a response joins the participant's panel."""
    return [
        q("text", "participant_id",
          T("Participant ID", "Código do/a participante", "অংশগ্রহণকারীর আইডি"),
          hint=id_hint or T(
              "Filled from the participant roster. Check it against the participant's card (e.g. MZ-0042).",
              "Preenchido a partir da lista de participantes. Confirme com o cartão do/a participante (p. ex. MZ-0042).",
              "অংশগ্রহণকারীর তালিকা থেকে পূরণ হয়। অংশগ্রহণকারীর কার্ডের সাথে মিলিয়ে দেখুন (যেমন BD-0042)।"),
          required=True, constraint=PARTICIPANT_ID_RULE,
          constraint_message=T(
              "Use the roster format: two capital letters, a hyphen and four digits (e.g. MZ-0042).",
              "Use o formato da lista: duas letras maiúsculas, um hífen e quatro algarismos (p. ex. MZ-0042).",
              "তালিকার ফরম্যাট ব্যবহার করুন: দুটি ইংরেজি বড় হাতের অক্ষর, একটি হাইফেন ও চারটি সংখ্যা (যেমন BD-0042)।")),
        q("select_one round", "round",
          round_label or T("Data collection round", "Ronda de recolha de dados", "তথ্য সংগ্রহের রাউন্ড"),
          required=True, choice_filter=round_filter),
    ]


def consent_gate(info: T, question: T, group: str = "interview") -> list[Row]:
    """Consent note and question; everything after sits in one group that is
    relevant only on consent, so refusing ends the interview."""
    return [
        note("consent_info", info),
        q("select_one yes_no", "consent", question, required=True),
        note("consent_refused",
             T("The participant did not consent. Do not ask any further questions. Thank them and save the form.",
               "O/a participante não deu consentimento. Não faça mais perguntas. Agradeça e guarde o formulário.",
               "অংশগ্রহণকারী সম্মতি দেননি। আর কোনো প্রশ্ন করবেন না। ধন্যবাদ জানিয়ে ফর্মটি সংরক্ষণ করুন।"),
             relevant="${consent} = 'no'"),
        begin_group(group, relevant="${consent} = 'yes'"),
    ]


PRELOAD_HINT = T(
    "Prefilled from the participant's previous round. Confirm with the participant and correct it if it has changed.",
    "Preenchido com a resposta da ronda anterior. Confirme com o/a participante e corrija se tiver mudado.",
    "আগের রাউন্ডের উত্তর থেকে পূরণ করা হয়েছে। অংশগ্রহণকারীর সাথে নিশ্চিত করুন এবং পরিবর্তন হলে সংশোধন করুন।",
)


def place(prefix: str = "", preload: bool = False, label_lg: T | None = None, hint: T | None = None) -> list[Row]:
    """Country -> province / district -> local government, with free text for
    places not listed. `prefix` renames the fields (e.g. host_)."""
    p = prefix
    hint = hint or (PRELOAD_HINT if preload else None)
    return [
        q("select_one country", f"{p}country", T("Country", "País", "দেশ"), hint=hint,
          required=True, preload=preload),
        q("text", f"{p}country_other", T("Which country?", "Qual país?", "কোন দেশ?"),
          required=True, relevant=f"${{{p}country}} = 'other'", preload=preload),
        q("select_one province", f"{p}province",
          T("Province (Mozambique) or district (Bangladesh)", "Província (Moçambique) ou distrito (Bangladesh)",
            "প্রদেশ (মোজাম্বিক) বা জেলা (বাংলাদেশ)"),
          hint=hint, required=True, relevant=f"${{{p}country}} != 'other'",
          choice_filter=f"country = ${{{p}country}} or country = 'any'", preload=preload),
        q("text", f"{p}province_other",
          T("Name of the province, district or region", "Nome da província, distrito ou região",
            "প্রদেশ, জেলা বা অঞ্চলের নাম"),
          required=True, relevant=f"${{{p}country}} = 'other' or ${{{p}province}} = '{places.PROVINCE_OTHER}'",
          preload=preload),
        q("select_one local_gov", f"{p}local_gov",
          label_lg or T("Local government (municipality, pourashava or city corporation)",
                        "Governo local (município, pourashava ou city corporation)",
                        "স্থানীয় সরকার প্রতিষ্ঠান (মিউনিসিপ্যালিটি, পৌরসভা বা সিটি কর্পোরেশন)"),
          hint=hint, required=True,
          relevant=f"${{{p}country}} != 'other' and ${{{p}province}} != '{places.PROVINCE_OTHER}'",
          choice_filter=f"province = ${{{p}province}} or province = 'any'", preload=preload),
        q("text", f"{p}local_gov_other",
          T("Name of the local government", "Nome do governo local (município)", "স্থানীয় সরকার প্রতিষ্ঠানের নাম"),
          required=True,
          relevant=(f"${{{p}country}} = 'other' or ${{{p}province}} = '{places.PROVINCE_OTHER}'"
                    f" or ${{{p}local_gov}} = '{places.LOCAL_GOV_OTHER}'"),
          preload=preload),
    ]


def role(preload: bool = False, relevant: str = "") -> list[Row]:
    hint = PRELOAD_HINT if preload else T(
        "The participant's main position in the local government.",
        "A função principal do/a participante no governo local.",
        "স্থানীয় সরকারে অংশগ্রহণকারীর প্রধান পদ।")
    return [
        q("select_one role", "role",
          T("What is your current role in the local government?", "Qual é a sua função actual no governo local?",
            "স্থানীয় সরকারে আপনার বর্তমান পদ বা দায়িত্ব কী?"),
          hint=hint, required=True, relevant=relevant, preload=preload),
        q("text", "role_other", T("Which role?", "Qual função?", "কোন পদ?"),
          required=True, relevant=f"({relevant}) and ${{role}} = 'other'" if relevant else "${role} = 'other'",
          preload=preload),
    ]


def other_text(name: str, of: str, multiple: bool = True) -> Row:
    """The 'specify' text after a select with an `other` choice."""
    rel = f"selected(${{{of}}}, 'other')" if multiple else f"${{{of}}} = 'other'"
    return q("text", name, T("Please specify", "Especifique, por favor", "অনুগ্রহ করে উল্লেখ করুন"),
             required=True, relevant=rel)


def exclusive_none(message_subject: T) -> tuple[str, T]:
    """Constraint for a select_multiple whose `none` choice excludes the others."""
    en, pt, bn = message_subject
    return (
        "not(selected(., 'none') and count-selected(.) > 1)",
        T(f"'{en}' cannot be combined with other answers.",
          f"'{pt}' não pode ser combinado com outras respostas.",
          f"'{bn}' অন্য উত্তরের সাথে একসাথে বেছে নেওয়া যাবে না।"),
    )


DATE_NOT_FUTURE = ". <= today()"
DATE_NOT_FUTURE_MSG = T(
    "The date cannot be in the future.",
    "A data não pode ser no futuro.",
    "তারিখ ভবিষ্যতের হতে পারবে না।",
)


def closing(name: str = "thanks") -> Row:
    return note(name, T(
        "Thank you for your time. Check the answers, then save and finalize the form.",
        "Muito obrigado/a pelo seu tempo. Verifique as respostas e depois guarde e finalize o formulário.",
        "আপনার সময়ের জন্য ধন্যবাদ। উত্তরগুলো যাচাই করুন, তারপর ফর্মটি সংরক্ষণ ও চূড়ান্ত করুন।"))


def place_choices() -> dict[str, list[Choice]]:
    return {
        "country": places.COUNTRIES,
        "province": places.provinces(),
        "local_gov": places.local_governments(),
    }


def end_gate(group: str = "interview") -> Row:
    return end_group(group)


__all__ = [
    "VERSION", "EVENTS", "choices", "OTHER", "YES_NO", "YES_NO_UNSURE", "ROUNDS", "ROLES", "TOPICS", "BARRIERS",
    "ENABLERS", "metadata", "linkage", "consent_gate", "place", "role", "other_text", "exclusive_none",
    "DATE_NOT_FUTURE", "DATE_NOT_FUTURE_MSG", "closing", "place_choices", "end_gate", "calc", "PRELOAD_HINT",
]
