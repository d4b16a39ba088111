"""Instrument 4: follow-up on practice (rounds 2 and 3): changes since the
last round (a repeat), continued peer contact, barriers, enablers, plans."""

from . import common as c
from .xlsform import Form, T, begin_group, begin_repeat, calc, end_group, end_repeat, q

CONSENT_INFO = T(
    "Read aloud: Thank you for taking part in this study again. Today we ask about changes in sanitation in your "
    "local government since our last visit, about your contact with peers, and about what helps or hinders "
    "change. It takes about 20 minutes. As before, taking part is voluntary, you may skip any question or stop "
    "at any time, and your answers are confidential. If you show us documents, we may photograph them only "
    "with your permission.",
    "Leia em voz alta: Obrigado/a por participar de novo neste estudo. Hoje perguntamos sobre as mudanças no "
    "saneamento do seu município desde a nossa última visita, sobre o seu contacto com os pares e sobre o que "
    "ajuda ou dificulta a mudança. Demora cerca de 20 minutos. Como antes, a participação é voluntária, pode "
    "deixar de responder a qualquer pergunta ou parar a qualquer momento, e as suas respostas são confidenciais. "
    "Se nos mostrar documentos, só os fotografaremos com a sua autorização.",
    "জোরে পড়ে শোনান: এই গবেষণায় আবার অংশ নেওয়ার জন্য ধন্যবাদ। আজ আমরা জানতে চাই, আমাদের গত সফরের পর থেকে আপনার "
    "স্থানীয় সরকারে স্যানিটেশনে কী কী পরিবর্তন হয়েছে, সহকর্মীদের সাথে আপনার যোগাযোগ কেমন, এবং কী পরিবর্তনে সাহায্য "
    "করে বা বাধা দেয়। এতে প্রায় ২০ মিনিট লাগবে। আগের মতোই অংশগ্রহণ স্বেচ্ছামূলক, আপনি যেকোনো প্রশ্ন বাদ দিতে বা "
    "যেকোনো সময় থামতে পারেন, এবং আপনার উত্তর গোপন রাখা হবে। আপনি কোনো নথি দেখালে শুধু আপনার অনুমতি নিয়েই আমরা "
    "তার ছবি তুলব।",
)
CONSENT_Q = T("Does the participant agree to continue?", "O/a participante aceita continuar?",
              "অংশগ্রহণকারী কি চালিয়ে যেতে সম্মত?")

CHANGE_TYPES = c.choices(
    ("bylaw", T("New or changed by-law or regulation", "Postura municipal ou regulamento novo ou alterado",
                "নতুন বা সংশোধিত উপ-আইন বা বিধিমালা")),
    ("budget", T("New or increased budget line for sanitation", "Rubrica orçamental nova ou reforçada para o saneamento",
                 "স্যানিটেশনের জন্য নতুন বা বাড়ানো বাজেট খাত")),
    ("plan", T("New or updated plan (e.g. sanitation plan, faecal sludge management plan)",
               "Plano novo ou actualizado (p. ex. plano de saneamento, plano de gestão de lamas fecais)",
               "নতুন বা হালনাগাদ পরিকল্পনা (যেমন স্যানিটেশন পরিকল্পনা, মলবর্জ্য ব্যবস্থাপনা পরিকল্পনা)")),
    ("service", T("Service started or changed (e.g. scheduled emptying)",
                  "Serviço iniciado ou alterado (p. ex. esvaziamento programado)",
                  "নতুন সেবা চালু বা সেবায় পরিবর্তন (যেমন নির্ধারিত সময় পরপর খালি করা)")),
    ("staff", T("Staff assigned to sanitation", "Pessoal afecto ao saneamento",
                "স্যানিটেশনের কাজে কর্মী নিয়োগ বা দায়িত্ব প্রদান")),
    ("data", T("Data or monitoring system", "Sistema de dados ou de monitoria", "তথ্য-উপাত্ত বা পরিবীক্ষণ ব্যবস্থা")),
    ("contract", T("Contract or agreement with a service provider", "Contrato ou acordo com um prestador de serviços",
                   "সেবাদানকারীর সাথে চুক্তি বা সমঝোতা")),
    ("tariff", T("New or changed tariff or fee", "Tarifa ou taxa nova ou alterada", "নতুন বা পরিবর্তিত ট্যারিফ বা ফি")),
    ("other", c.OTHER),
)

STAGES = c.choices(
    ("proposed", T("Proposed or being prepared", "Proposto ou em preparação", "প্রস্তাবিত বা প্রস্তুতির পর্যায়ে")),
    ("approved", T("Approved, not yet implemented", "Aprovado, ainda não implementado", "অনুমোদিত, এখনো বাস্তবায়িত হয়নি")),
    ("implementing", T("Being implemented", "Em implementação", "বাস্তবায়নাধীন")),
    ("done", T("Fully implemented", "Totalmente implementado", "সম্পূর্ণ বাস্তবায়িত")),
)

CONTRIBUTION = c.choices(
    ("none", T("None", "Nenhuma", "কোনো অবদান নেই")),
    ("some", T("Some", "Alguma", "কিছুটা")),
    ("a_lot", T("A lot", "Muita", "অনেক")),
)

FREQUENCY = c.choices(
    ("never", T("Never", "Nunca", "কখনো না")),
    ("once", T("Once", "Uma vez", "একবার")),
    ("few", T("A few times (2–5)", "Algumas vezes (2–5)", "কয়েকবার (২–৫ বার)")),
    ("monthly", T("About once a month", "Cerca de uma vez por mês", "মাসে প্রায় একবার")),
    ("weekly", T("Weekly or more often", "Semanalmente ou mais", "সপ্তাহে একবার বা তার বেশি")),
)

PEER_CHANNELS = c.choices(
    ("call", T("Phone call", "Chamada telefónica", "ফোন কল")),
    ("messaging", T("WhatsApp or other messaging app", "WhatsApp ou outra aplicação de mensagens",
                    "হোয়াটসঅ্যাপ বা অন্য মেসেজিং অ্যাপ")),
    ("email", T("Email", "Correio electrónico (e-mail)", "ই-মেইল")),
    ("online_meeting", T("Online meeting", "Reunião online", "অনলাইন সভা")),
    ("visit", T("In-person visit", "Visita presencial", "সরাসরি সফর")),
    ("event", T("Met at a workshop, conference or meeting", "Encontro num seminário, conferência ou reunião",
                "কর্মশালা, সম্মেলন বা সভায় দেখা")),
    ("other", c.OTHER),
)

SELECT_ALL = T("Select all that apply.", "Seleccione todas as opções aplicáveis.", "প্রযোজ্য সবগুলো বেছে নিন।")


def form() -> Form:
    barriers_rule, barriers_msg = c.exclusive_none(T("No barriers", "Nenhuma barreira", "কোনো বাধা নেই"))
    enablers_rule, enablers_msg = c.exclusive_none(T("No enablers", "Nenhum facilitador", "কোনো সহায়ক বিষয় নেই"))
    rows = [
        *c.metadata(),
        *c.linkage(round_filter="name != 'baseline'"),
        *c.consent_gate(CONSENT_INFO, CONSENT_Q),

        begin_group("workplace", T("Local government and role", "Governo local e função", "স্থানীয় সরকার ও পদ")),
        *c.place(preload=True),
        *c.role(preload=True),
        end_group("workplace"),

        begin_group("practice", T("Changes since the last round", "Mudanças desde a última ronda",
                                  "গত রাউন্ডের পর থেকে পরিবর্তন")),
        q("select_one yes_no", "any_changes",
          T("Since our last interview, has your local government made any change in sanitation: by-laws, budget, "
            "plans, services, staff, data systems or similar?",
            "Desde a nossa última entrevista, o seu município fez alguma mudança no saneamento: posturas, "
            "orçamento, planos, serviços, pessoal, sistemas de dados ou semelhante?",
            "আমাদের গত সাক্ষাৎকারের পর থেকে আপনার স্থানীয় সরকার কি স্যানিটেশনে কোনো পরিবর্তন এনেছে: উপ-আইন, "
            "বাজেট, পরিকল্পনা, সেবা, কর্মী, তথ্য-উপাত্ত ব্যবস্থা বা এ ধরনের কিছু?"),
          required=True),
        begin_repeat("changes", T("Change", "Mudança", "পরিবর্তন"), relevant="${any_changes} = 'yes'"),
        q("select_one change_type", "change_type", T("What kind of change?", "Que tipo de mudança?",
                                                      "কী ধরনের পরিবর্তন?"), required=True),
        c.other_text("change_type_other", "change_type", multiple=False),
        q("text", "change_desc", T("Describe the change", "Descreva a mudança", "পরিবর্তনটি বর্ণনা করুন"),
          hint=T("What changed, who decided it, and who benefits.", "O que mudou, quem decidiu e quem beneficia.",
                 "কী বদলেছে, কে সিদ্ধান্ত নিয়েছে এবং কারা উপকৃত হচ্ছে।"),
          required=True, appearance="multiline"),
        q("date", "change_date", T("When did it happen (approximately)?", "Quando aconteceu (aproximadamente)?",
                                   "কবে হয়েছে (আনুমানিক)?"),
          hint=T("If only the month is known, use the first day of the month.",
                 "Se só souber o mês, use o primeiro dia do mês.",
                 "শুধু মাস জানা থাকলে মাসের প্রথম দিন দিন।"),
          required=True, constraint=c.DATE_NOT_FUTURE + " and . >= date('2015-01-01')",
          constraint_message=T("The date cannot be in the future or before 2015.",
                               "A data não pode ser no futuro nem anterior a 2015.",
                               "তারিখ ভবিষ্যতের বা ২০১৫ সালের আগের হতে পারবে না।")),
        q("select_one stage", "change_stage", T("At what stage is it now?", "Em que fase está agora?",
                                                "এটি এখন কোন পর্যায়ে আছে?"), required=True),
        q("select_one contribution", "p2p_contribution",
          T("How much did the P2P learning contribute to this change?",
            "Quanto contribuiu a aprendizagem entre pares (P2P) para esta mudança?",
            "এই পরিবর্তনে P2P শিখনের অবদান কতটা?"), required=True),
        q("text", "p2p_how", T("How did the P2P learning contribute?", "Como contribuiu a aprendizagem P2P?",
                               "P2P শিখন কীভাবে অবদান রেখেছে?"),
          required=True, relevant="${p2p_contribution} = 'some' or ${p2p_contribution} = 'a_lot'",
          appearance="multiline"),
        q("image", "evidence_photo", T("Photo of a supporting document (optional)",
                                       "Fotografia de um documento comprovativo (opcional)",
                                       "সহায়ক নথির ছবি (ঐচ্ছিক)"),
          hint=T("E.g. the approved by-law, budget page or plan cover. Only with permission; avoid people's faces.",
                 "P. ex. a postura aprovada, a página do orçamento ou a capa do plano. Só com autorização; evite "
                 "rostos de pessoas.",
                 "যেমন অনুমোদিত উপ-আইন, বাজেটের পৃষ্ঠা বা পরিকল্পনার প্রচ্ছদ। শুধু অনুমতি নিয়ে; মানুষের মুখের ছবি "
                 "এড়িয়ে চলুন।"),
          parameters="max-pixels=1600"),
        end_repeat("changes"),
        calc("n_changes", "if(${any_changes} = 'yes', count(${changes}), 0)"),
        calc("n_changes_p2p",
             "if(${any_changes} = 'yes', count(${changes}[p2p_contribution = 'some' or p2p_contribution = 'a_lot']), 0)"),
        end_group("practice"),

        begin_group("peers", T("Contact with peers", "Contacto com os pares", "সহকর্মীদের সাথে যোগাযোগ")),
        q("select_one frequency", "peer_contact",
          T("Since the last round, how often have you been in contact with peers from other local governments you "
            "met through P2P learning?",
            "Desde a última ronda, com que frequência contactou com colegas de outros municípios que conheceu "
            "através da aprendizagem entre pares?",
            "গত রাউন্ডের পর থেকে P2P শিখনের মাধ্যমে পরিচিত অন্য স্থানীয় সরকারের সহকর্মীদের সাথে আপনার কত ঘন ঘন "
            "যোগাযোগ হয়েছে?"), required=True),
        q("select_multiple peer_channel", "peer_channels", T("By which channels?", "Por que meios?",
                                                             "কোন কোন মাধ্যমে?"),
          hint=SELECT_ALL, required=True, relevant="${peer_contact} != 'never' and ${peer_contact} != ''"),
        c.other_text("peer_channels_other", "peer_channels"),
        q("text", "peer_topics", T("What did you discuss with them?", "Sobre que assuntos falaram?",
                                   "তাঁদের সাথে কী কী বিষয়ে আলোচনা হয়েছে?"),
          relevant="${peer_contact} != 'never' and ${peer_contact} != ''", appearance="multiline"),
        end_group("peers"),

        begin_group("barriers_enablers", T("Barriers and enablers", "Barreiras e facilitadores",
                                           "বাধা ও সহায়ক বিষয়")),
        q("select_multiple barriers", "barriers",
          T("What has made it hard to apply what you learned through P2P learning?",
            "O que tem dificultado a aplicação do que aprendeu com a aprendizagem entre pares?",
            "P2P শিখনে যা শিখেছেন তা প্রয়োগ করতে কী কী বাধা এসেছে?"),
          hint=SELECT_ALL, required=True, constraint=barriers_rule, constraint_message=barriers_msg),
        c.other_text("barriers_other", "barriers"),
        q("select_one barriers", "main_barrier", T("Which of these was the main barrier?",
                                                   "Qual destas foi a principal barreira?",
                                                   "এগুলোর মধ্যে প্রধান বাধা কোনটি?"),
          required=True, relevant="count-selected(${barriers}) > 1 and not(selected(${barriers}, 'none'))",
          choice_filter="selected(${barriers}, name) and name != 'none'"),
        q("select_multiple enablers", "enablers",
          T("What has helped you apply what you learned?", "O que o/a ajudou a aplicar o que aprendeu?",
            "যা শিখেছেন তা প্রয়োগ করতে কী কী সাহায্য করেছে?"),
          hint=SELECT_ALL, required=True, constraint=enablers_rule, constraint_message=enablers_msg),
        c.other_text("enablers_other", "enablers"),
        end_group("barriers_enablers"),

        begin_group("plans_group", T("Plans", "Planos", "পরিকল্পনা")),
        q("text", "plans", T("What does your local government plan to do in sanitation in the next six months?",
                             "O que planeia o seu município fazer no saneamento nos próximos seis meses?",
                             "আগামী ছয় মাসে স্যানিটেশনে আপনার স্থানীয় সরকার কী করার পরিকল্পনা করছে?"),
          required=True, appearance="multiline"),
        q("select_one yes_no_unsure", "more_p2p",
          T("Would you like to take part in further P2P learning?",
            "Gostaria de participar em mais actividades de aprendizagem entre pares?",
            "আপনি কি আরও P2P শিখন কার্যক্রমে অংশ নিতে চান?"), required=True),
        end_group("plans_group"),
        c.closing(),
        c.end_gate(),
    ]
    return Form(
        file_name="practice_followup.xlsx",
        form_id="p2p_practice_followup",
        version=c.VERSION,
        title="P2P sanitation study — follow-up on practice",
        instance_name="concat('FUP ', ${participant_id}, ' ', ${round})",
        rows=rows,
        choices={
            "yes_no": c.YES_NO,
            "yes_no_unsure": c.YES_NO_UNSURE,
            "round": c.ROUNDS,
            **c.place_choices(),
            "role": c.ROLES,
            "change_type": CHANGE_TYPES,
            "stage": STAGES,
            "contribution": CONTRIBUTION,
            "frequency": FREQUENCY,
            "peer_channel": PEER_CHANNELS,
            "barriers": c.BARRIERS,
            "enablers": c.ENABLERS,
        },
    )
