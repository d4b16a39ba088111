"""Instrument 1: participant registration (once per participant)."""

from . import common as c
from .xlsform import Form, T, begin_group, calc, end_group, note, q

CONSENT_INFO = T(
    "INFORMED CONSENT — read aloud. My name is [enumerator's name]. We are researchers studying how staff of "
    "local governments learn from colleagues in other local governments about sanitation services "
    "(peer-to-peer or P2P learning). We would like to ask you about your work, your knowledge and skills in "
    "sanitation, and changes in your local government. We will ask you again about 6 and 12 months from now. "
    "This interview takes about 15 minutes. Taking part is voluntary: you may skip any question and stop at any "
    "time, with no consequence for you or your work. Your name and contact details are kept apart from your "
    "answers, only the research team can see them, and no report will identify you. "
    "Do you have any questions?",
    "CONSENTIMENTO INFORMADO — leia em voz alta. O meu nome é [nome do/a inquiridor/a]. Somos investigadores e "
    "estudamos como os funcionários dos municípios aprendem com colegas de outros municípios sobre os serviços "
    "de saneamento (aprendizagem entre pares, ou P2P). Gostaríamos de lhe fazer perguntas sobre o seu trabalho, "
    "os seus conhecimentos e competências em saneamento e as mudanças no seu município. Voltaremos a "
    "entrevistá-lo/a daqui a cerca de 6 e 12 meses. Esta entrevista dura cerca de 15 minutos. A participação é "
    "voluntária: pode deixar de responder a qualquer pergunta e desistir a qualquer momento, sem nenhuma "
    "consequência para si ou para o seu trabalho. O seu nome e contactos são guardados separadamente das suas "
    "respostas, só a equipa de investigação tem acesso a eles e nenhum relatório o/a identificará. "
    "Tem alguma pergunta?",
    "অবহিত সম্মতি — জোরে পড়ে শোনান। আমার নাম [তথ্য সংগ্রহকারীর নাম]। আমরা গবেষক; আমরা জানতে চাই, "
    "স্থানীয় সরকারের কর্মকর্তা-কর্মচারীরা অন্য স্থানীয় সরকারের সহকর্মীদের কাছ থেকে স্যানিটেশন সেবা সম্পর্কে "
    "কীভাবে শেখেন (পিয়ার-টু-পিয়ার বা P2P শিখন)। আমরা আপনার কাজ, স্যানিটেশন বিষয়ে আপনার জ্ঞান ও দক্ষতা এবং "
    "আপনার পৌরসভা বা সিটি কর্পোরেশনে হওয়া পরিবর্তন নিয়ে প্রশ্ন করতে চাই। প্রায় ৬ ও ১২ মাস পর আমরা আবার আপনার "
    "সাক্ষাৎকার নেব। এই সাক্ষাৎকারে প্রায় ১৫ মিনিট সময় লাগবে। অংশগ্রহণ সম্পূর্ণ স্বেচ্ছামূলক: আপনি যেকোনো প্রশ্নের "
    "উত্তর না দিতে পারেন এবং যেকোনো সময় থামতে পারেন; এতে আপনার বা আপনার কাজের কোনো ক্ষতি হবে না। আপনার নাম ও "
    "যোগাযোগের তথ্য আপনার উত্তর থেকে আলাদা রাখা হবে, শুধু গবেষক দল তা দেখতে পাবে এবং কোনো প্রতিবেদনে আপনার "
    "পরিচয় প্রকাশ করা হবে না। আপনার কোনো প্রশ্ন আছে কি?",
)

CONSENT_Q = T(
    "Does the participant agree to take part in the study?",
    "O/a participante aceita participar no estudo?",
    "অংশগ্রহণকারী কি গবেষণায় অংশ নিতে সম্মত?",
)

GENDERS = c.choices(
    ("woman", T("Woman", "Mulher", "নারী")),
    ("man", T("Man", "Homem", "পুরুষ")),
    ("another", T("Another gender identity", "Outra identidade de género", "অন্য লিঙ্গ পরিচয়")),
    ("refused", T("Prefers not to say", "Prefere não dizer", "বলতে চান না")),
)

EDUCATION = c.choices(
    ("primary", T("Primary or less", "Ensino primário ou menos", "প্রাথমিক বা তার কম")),
    ("secondary", T("Secondary", "Ensino secundário", "মাধ্যমিক / উচ্চ মাধ্যমিক")),
    ("technical", T("Technical or vocational diploma", "Ensino técnico-profissional", "কারিগরি বা বৃত্তিমূলক ডিপ্লোমা")),
    ("bachelor", T("Bachelor's degree (licenciatura)", "Licenciatura", "স্নাতক ডিগ্রি")),
    ("postgrad", T("Master's degree or higher", "Mestrado ou superior", "স্নাতকোত্তর বা তার বেশি")),
)

P2P_ROLES = c.choices(
    ("host", T("Host: my local government received visiting peers",
               "Anfitrião: o meu município recebeu os pares visitantes",
               "আয়োজক: আমার স্থানীয় সরকার অতিথি সহকর্মীদের গ্রহণ করেছে")),
    ("visitor", T("Visitor: I visited another local government",
                  "Visitante: visitei outro município", "অতিথি: আমি অন্য স্থানীয় সরকার পরিদর্শন করেছি")),
    ("none", T("None: did not take part in a P2P event (comparison)",
               "Nenhum: não participou num evento P2P (comparação)",
               "কোনোটিই নয়: P2P অনুষ্ঠানে অংশ নেননি (তুলনামূলক দল)")),
)

CHANNELS = c.choices(
    ("call", T("Phone call", "Chamada telefónica", "ফোন কল")),
    ("sms", T("SMS", "SMS", "এসএমএস")),
    ("whatsapp", T("WhatsApp or other messaging app", "WhatsApp ou outra aplicação de mensagens",
                   "হোয়াটসঅ্যাপ বা অন্য মেসেজিং অ্যাপ")),
    ("email", T("Email", "Correio electrónico (e-mail)", "ই-মেইল")),
)

PHONE_RULE = "regex(., '^\\+?[0-9]{8,15}$')"
PHONE_MSG = T(
    "Digits only, 8 to 15 of them, optionally starting with + and the country code (e.g. +258841234567).",
    "Apenas algarismos, de 8 a 15, podendo começar com + e o indicativo do país (p. ex. +258841234567).",
    "শুধু সংখ্যা, ৮ থেকে ১৫টি; শুরুতে + ও দেশের কোড দেওয়া যায় (যেমন +8801712345678)।",
)


def form() -> Form:
    yr = "format-date(today(), '%Y')"
    rows = [
        *c.metadata(),
        *c.linkage(
            id_hint=T(
                "Write the ID printed on the participant's card from the roster (e.g. MZ-0042). It is the only "
                "link between rounds: never use the person's name here.",
                "Escreva o código impresso no cartão do/a participante (p. ex. MZ-0042). É a única ligação entre "
                "as rondas: nunca use aqui o nome da pessoa.",
                "অংশগ্রহণকারীর কার্ডে ছাপা আইডি লিখুন (যেমন BD-0042)। এটিই বিভিন্ন রাউন্ডের মধ্যে একমাত্র সংযোগ: "
                "এখানে কখনো ব্যক্তির নাম লিখবেন না।"),
            round_label=T("Round in which the participant is registered", "Ronda em que o/a participante é registado/a",
                          "যে রাউন্ডে অংশগ্রহণকারী নিবন্ধিত হচ্ছেন")),
        *c.consent_gate(CONSENT_INFO, CONSENT_Q),

        begin_group("workplace", T("Local government and role", "Governo local e função",
                                   "স্থানীয় সরকার ও পদ")),
        *c.place(),
        *c.role(),
        q("text", "department", T("Department or unit", "Departamento ou unidade", "বিভাগ বা শাখা"),
          hint=T("E.g. water and sanitation, planning, finance, environment.",
                 "P. ex. água e saneamento, planeamento, finanças, ambiente.",
                 "যেমন পানি ও স্যানিটেশন, পরিকল্পনা, অর্থ, পরিবেশ।")),
        q("integer", "age", T("How old are you (completed years)?", "Que idade tem (anos completos)?",
                              "আপনার বয়স কত (পূর্ণ বছরে)?"),
          hint=T("Only the age band is kept for analysis.", "Só o grupo etário é usado na análise.",
                 "বিশ্লেষণে শুধু বয়সের শ্রেণি ব্যবহার করা হবে।"),
          required=True, constraint=". >= 18 and . <= 80", pii=True,
          constraint_message=T("Age must be between 18 and 80 years.", "A idade deve estar entre 18 e 80 anos.",
                               "বয়স ১৮ থেকে ৮০ বছরের মধ্যে হতে হবে।")),
        c.calc("age_band",
               "if(${age} < 25, '18_24', if(${age} < 35, '25_34', if(${age} < 45, '35_44', "
               "if(${age} < 55, '45_54', if(${age} < 65, '55_64', '65_plus')))))"),
        q("integer", "years_in_role",
          T("For how many years have you held this role in this local government?",
            "Há quantos anos exerce esta função neste governo local?",
            "এই স্থানীয় সরকারে আপনি কত বছর ধরে এই পদে আছেন?"),
          hint=T("Whole years; enter 0 if less than one year.", "Anos completos; escreva 0 se for menos de um ano.",
                 "পূর্ণ বছর; এক বছরের কম হলে ০ লিখুন।"),
          required=True, constraint=". >= 0 and . <= 50 and . <= ${age} - 15",
          constraint_message=T(
              "Enter 0 to 50 years, and no more than the participant's age minus 15.",
              "Indique entre 0 e 50 anos, e não mais do que a idade do/a participante menos 15.",
              "০ থেকে ৫০ বছরের মধ্যে লিখুন, এবং তা অংশগ্রহণকারীর বয়স থেকে ১৫ বাদ দিলে যা হয় তার বেশি নয়।")),
        q("integer", "years_in_lg",
          T("For how many years have you worked for this local government, in any role?",
            "Há quantos anos trabalha neste governo local, em qualquer função?",
            "যেকোনো পদে আপনি কত বছর ধরে এই স্থানীয় সরকারে কাজ করছেন?"),
          hint=T("Whole years; enter 0 if less than one year.", "Anos completos; escreva 0 se for menos de um ano.",
                 "পূর্ণ বছর; এক বছরের কম হলে ০ লিখুন।"),
          required=True, constraint=". >= ${years_in_role} and . <= 50 and . <= ${age} - 15",
          constraint_message=T(
              "Cannot be less than the years in the current role, more than 50, or more than age minus 15.",
              "Não pode ser inferior aos anos na função actual, superior a 50, nem superior à idade menos 15.",
              "বর্তমান পদে থাকার বছরের কম, ৫০-এর বেশি বা বয়স থেকে ১৫ বাদ দিলে যা হয় তার বেশি হতে পারবে না।")),
        end_group("workplace"),

        begin_group("profile", T("About you", "Sobre si", "আপনার সম্পর্কে")),
        q("select_one gender", "gender", T("Gender", "Género", "লিঙ্গ"),
          hint=T("Ask; do not assume.", "Pergunte; não presuma.", "জিজ্ঞেস করুন; অনুমান করবেন না।"), required=True),
        q("select_one education", "education",
          T("What is the highest level of education you have completed?",
            "Qual é o nível de escolaridade mais alto que concluiu?",
            "আপনি সর্বোচ্চ কোন স্তরের শিক্ষা সম্পন্ন করেছেন?"), required=True),
        q("select_one yes_no", "prior_training",
          T("In the last five years, have you received any training on sanitation?",
            "Nos últimos cinco anos, recebeu alguma formação em saneamento?",
            "গত পাঁচ বছরে আপনি কি স্যানিটেশন বিষয়ে কোনো প্রশিক্ষণ পেয়েছেন?"), required=True),
        q("select_multiple topics", "prior_training_topics",
          T("On which topics?", "Sobre que temas?", "কোন কোন বিষয়ে?"),
          hint=T("Select all that apply.", "Seleccione todas as opções aplicáveis.", "প্রযোজ্য সবগুলো বেছে নিন।"),
          required=True, relevant="${prior_training} = 'yes'"),
        c.other_text("prior_training_topics_other", "prior_training_topics"),
        q("integer", "prior_training_year",
          T("In which year was the most recent training?", "Em que ano foi a formação mais recente?",
            "সবচেয়ে সাম্প্রতিক প্রশিক্ষণটি কোন বছরে হয়েছিল?"),
          required=True, relevant="${prior_training} = 'yes'",
          constraint=f". >= {yr} - 5 and . <= {yr}",
          constraint_message=T("The year must be within the last five years and not in the future.",
                               "O ano deve estar dentro dos últimos cinco anos e não pode ser no futuro.",
                               "বছরটি গত পাঁচ বছরের মধ্যে হতে হবে এবং ভবিষ্যতের হতে পারবে না।")),
        q("select_one p2p_role", "p2p_role",
          T("In the P2P learning event, what was your role?", "No evento de aprendizagem entre pares (P2P), qual foi o seu papel?",
            "P2P শিখন অনুষ্ঠানে আপনার ভূমিকা কী ছিল?"),
          hint=T("Hosts received the visit; visitors travelled to the host local government.",
                 "Os anfitriões receberam a visita; os visitantes deslocaram-se ao município anfitrião.",
                 "আয়োজকেরা সফরকারীদের গ্রহণ করেছেন; অতিথিরা আয়োজক স্থানীয় সরকারে গিয়েছেন।"),
          required=True),
        q("select_one event", "p2p_event", T("Which P2P event?", "Que evento P2P?", "কোন P2P অনুষ্ঠান?"),
          required=True, relevant="${p2p_role} = 'host' or ${p2p_role} = 'visitor'"),
        c.other_text("p2p_event_other", "p2p_event", multiple=False),
        end_group("profile"),

        begin_group("contact", T("Contact details (personal data)", "Contactos (dados pessoais)",
                                 "যোগাযোগের তথ্য (ব্যক্তিগত তথ্য)")),
        note("contact_note", T(
            "These details are used only to contact the participant for the next rounds. They are stored "
            "separately and never shared.",
            "Estes dados servem apenas para contactar o/a participante nas próximas rondas. São guardados "
            "separadamente e nunca partilhados.",
            "এই তথ্য শুধু পরবর্তী রাউন্ডে অংশগ্রহণকারীর সাথে যোগাযোগের জন্য ব্যবহার হবে। এগুলো আলাদা করে রাখা হয় "
            "এবং কখনো কারও সাথে ভাগ করা হয় না।")),
        q("text", "full_name", T("Full name", "Nome completo", "পূর্ণ নাম"), required=True, pii=True),
        q("text", "phone", T("Mobile phone number", "Número de celular", "মোবাইল ফোন নম্বর"),
          required=True, constraint=PHONE_RULE, constraint_message=PHONE_MSG, pii=True,
          appearance="numbers"),
        q("text", "phone_alt", T("Another phone number (optional)", "Outro número de telefone (opcional)",
                                 "অন্য একটি ফোন নম্বর (ঐচ্ছিক)"),
          constraint=PHONE_RULE + " and . != ${phone}",
          constraint_message=T(
              "Digits only (8 to 15, optional +), and different from the first number.",
              "Apenas algarismos (8 a 15, com + opcional), e diferente do primeiro número.",
              "শুধু সংখ্যা (৮ থেকে ১৫টি, শুরুতে + দেওয়া যায়) এবং প্রথম নম্বর থেকে ভিন্ন হতে হবে।"),
          pii=True, appearance="numbers"),
        q("text", "email", T("Email address (optional)", "Endereço de e-mail (opcional)", "ই-মেইল ঠিকানা (ঐচ্ছিক)"),
          constraint="regex(., '^[^@ ]+@[^@ ]+\\.[^@ ]+$')",
          constraint_message=T("This does not look like an email address (name@example.org).",
                               "Isto não parece um endereço de e-mail (nome@exemplo.org).",
                               "এটি সঠিক ই-মেইল ঠিকানা মনে হচ্ছে না (name@example.org)।"),
          pii=True),
        q("select_one channel", "preferred_channel",
          T("How do you prefer to be contacted?", "Como prefere ser contactado/a?",
            "আপনি কীভাবে যোগাযোগ পছন্দ করেন?"), required=True),
        q("select_one yes_no", "recontact",
          T("May we contact you again for the next rounds of this study?",
            "Podemos voltar a contactá-lo/a para as próximas rondas deste estudo?",
            "এই গবেষণার পরবর্তী রাউন্ডের জন্য আমরা কি আবার আপনার সাথে যোগাযোগ করতে পারি?"), required=True),
        end_group("contact"),
        c.closing(),
        c.end_gate(),
    ]
    return Form(
        file_name="registration.xlsx",
        form_id="p2p_registration",
        version=c.VERSION,
        title="P2P sanitation study — participant registration",
        instance_name="concat('REG ', ${participant_id})",
        rows=rows,
        choices={
            "yes_no": c.YES_NO,
            "round": c.ROUNDS,
            **c.place_choices(),
            "role": c.ROLES,
            "gender": GENDERS,
            "education": EDUCATION,
            "topics": c.TOPICS,
            "p2p_role": P2P_ROLES,
            "event": c.EVENTS,
            "channel": CHANNELS,
        },
    )
