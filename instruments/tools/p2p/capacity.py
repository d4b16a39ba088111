"""Instrument 2: capacity assessment (every round) — self-assessed capacity on
a 1–5 scale and a short knowledge test scored by calculation.

capacity_sealed.xlsx is the same form with a researcher public key."""

from . import common as c
from .xlsform import Choice, Form, T, begin_group, calc, end_group, note, q

CONSENT_INFO = T(
    "Read aloud: Thank you for taking part in this study. Today we ask how you rate your own skills in "
    "sanitation, followed by a few knowledge questions. It takes about 20 minutes. As before, taking part is "
    "voluntary, you may skip any question or stop at any time, and your answers are confidential.",
    "Leia em voz alta: Obrigado/a por participar neste estudo. Hoje perguntamos como avalia as suas próprias "
    "capacidades em saneamento, seguido de algumas perguntas de conhecimento. Demora cerca de 20 minutos. "
    "Como antes, a participação é voluntária, pode deixar de responder a qualquer pergunta ou parar a qualquer "
    "momento, e as suas respostas são confidenciais.",
    "জোরে পড়ে শোনান: এই গবেষণায় অংশ নেওয়ার জন্য ধন্যবাদ। আজ আমরা জানতে চাই, স্যানিটেশন বিষয়ে নিজের দক্ষতাকে "
    "আপনি কীভাবে মূল্যায়ন করেন; এরপর কয়েকটি জ্ঞানভিত্তিক প্রশ্ন থাকবে। এতে প্রায় ২০ মিনিট লাগবে। আগের মতোই "
    "অংশগ্রহণ স্বেচ্ছামূলক, আপনি যেকোনো প্রশ্ন বাদ দিতে বা যেকোনো সময় থামতে পারেন, এবং আপনার উত্তর গোপন রাখা হবে।",
)
CONSENT_Q = T("Does the participant agree to continue?", "O/a participante aceita continuar?",
              "অংশগ্রহণকারী কি চালিয়ে যেতে সম্মত?")

CAPACITY5 = c.choices(
    ("1", T("1 – Very low: I cannot do this", "1 – Muito baixa: não sei fazer isto",
            "১ – খুব কম: আমি এটি করতে পারি না")),
    ("2", T("2 – Low: I can do this only with a lot of help", "2 – Baixa: só consigo fazer isto com muita ajuda",
            "২ – কম: অনেক সাহায্য পেলে তবেই পারি")),
    ("3", T("3 – Moderate: I can do this with some help", "3 – Média: consigo fazer isto com alguma ajuda",
            "৩ – মাঝারি: কিছুটা সাহায্য পেলে পারি")),
    ("4", T("4 – High: I can do this on my own", "4 – Alta: consigo fazer isto sozinho/a",
            "৪ – বেশি: নিজে নিজেই পারি")),
    ("5", T("5 – Very high: I could teach others to do this", "5 – Muito alta: poderia ensinar outras pessoas",
            "৫ – খুব বেশি: অন্যদের এটি শেখাতে পারি")),
    ("na", T("Not applicable to my work", "Não se aplica ao meu trabalho", "আমার কাজের সাথে প্রাসঙ্গিক নয়")),
)

# (group, group label, [(name, label)])
CAPACITY_ITEMS = [
    ("cap_chain", T("Planning and the faecal sludge service chain", "Planeamento e cadeia de serviços de lamas fecais",
                    "পরিকল্পনা ও মলবর্জ্য (ফিকাল স্লাজ) সেবা শৃঙ্খল"), [
        ("cap_planning", T("Sanitation planning (e.g. preparing or updating a city-wide sanitation plan)",
                           "Planeamento do saneamento (p. ex. elaborar ou actualizar um plano de saneamento para toda a cidade)",
                           "স্যানিটেশন পরিকল্পনা (যেমন পুরো শহরের স্যানিটেশন পরিকল্পনা তৈরি বা হালনাগাদ করা)")),
        ("cap_containment", T("Containment: standards for and inspection of toilets, pits and septic tanks",
                              "Contenção: normas e fiscalização de latrinas, fossas e fossas sépticas",
                              "ধারণ (কনটেইনমেন্ট): টয়লেট, পিট ও সেপটিক ট্যাংকের মানদণ্ড ও পরিদর্শন")),
        ("cap_emptying", T("Emptying: organising safe emptying of pits and septic tanks",
                           "Esvaziamento: organizar o esvaziamento seguro de latrinas e fossas sépticas",
                           "খালি করা: পিট ও সেপটিক ট্যাংক নিরাপদে খালি করার ব্যবস্থা করা")),
        ("cap_transport", T("Transport: getting faecal sludge safely to treatment",
                            "Transporte: levar as lamas fecais com segurança até ao tratamento",
                            "পরিবহন: মলবর্জ্য নিরাপদে পরিশোধনাগারে পৌঁছানো")),
        ("cap_treatment", T("Treatment: operating or overseeing faecal sludge treatment",
                            "Tratamento: operar ou supervisionar o tratamento de lamas fecais",
                            "পরিশোধন: মলবর্জ্য পরিশোধন কেন্দ্র পরিচালনা বা তদারকি করা")),
        ("cap_reuse", T("Reuse or safe disposal of treated sludge",
                        "Reutilização ou deposição final segura das lamas tratadas",
                        "পরিশোধিত মলবর্জ্যের পুনর্ব্যবহার বা নিরাপদ নিষ্কাশন")),
    ]),
    ("cap_finance", T("Finance, contracts and regulation", "Finanças, contratos e regulamentação",
                      "অর্থায়ন, চুক্তি ও নিয়ন্ত্রণ"), [
        ("cap_budgeting", T("Budgeting and finance for sanitation", "Orçamentação e finanças para o saneamento",
                            "স্যানিটেশনের জন্য বাজেট প্রণয়ন ও অর্থায়ন")),
        ("cap_tariffs", T("Setting tariffs and recovering costs", "Definição de tarifas e recuperação de custos",
                          "ট্যারিফ (মাশুল) নির্ধারণ ও ব্যয় পুনরুদ্ধার")),
        ("cap_contracting", T("Contracting and managing private service providers",
                              "Contratação e gestão de prestadores privados de serviços",
                              "বেসরকারি সেবাদানকারীর সাথে চুক্তি ও তাদের ব্যবস্থাপনা")),
        ("cap_bylaws", T("Drafting and enforcing by-laws and regulation",
                         "Elaboração e aplicação de posturas municipais e regulamentos",
                         "উপ-আইন ও বিধিমালা প্রণয়ন এবং প্রয়োগ")),
    ]),
    ("cap_people", T("Data, people and resilience", "Dados, pessoas e resiliência",
                     "তথ্য-উপাত্ত, জনগণ ও সহনশীলতা"), [
        ("cap_monitoring", T("Monitoring services and using data", "Monitoria dos serviços e uso de dados",
                             "সেবা পরিবীক্ষণ ও তথ্য-উপাত্ত ব্যবহার")),
        ("cap_community", T("Engaging communities", "Envolvimento das comunidades", "জনগোষ্ঠীকে সম্পৃক্ত করা")),
        ("cap_women", T("Equity and inclusion: making services work for women and girls",
                        "Equidade e inclusão: serviços adequados para mulheres e raparigas",
                        "সমতা ও অন্তর্ভুক্তি: নারী ও কিশোরীদের উপযোগী সেবা নিশ্চিত করা")),
        ("cap_disability", T("Equity and inclusion: making services accessible to people with disabilities",
                             "Equidade e inclusão: serviços acessíveis a pessoas com deficiência",
                             "সমতা ও অন্তর্ভুক্তি: প্রতিবন্ধী ব্যক্তিদের জন্য সেবা সহজলভ্য করা")),
        ("cap_informal", T("Equity and inclusion: extending services to informal settlements",
                           "Equidade e inclusão: levar os serviços aos assentamentos informais",
                           "সমতা ও অন্তর্ভুক্তি: অনানুষ্ঠানিক বসতি (বস্তি) পর্যন্ত সেবা পৌঁছানো")),
        ("cap_climate", T("Climate resilience: sanitation that withstands floods, droughts and other climate risks",
                          "Resiliência climática: saneamento que resiste a cheias, secas e outros riscos climáticos",
                          "জলবায়ু সহনশীলতা: বন্যা, খরা ও অন্যান্য জলবায়ু ঝুঁকিতেও টিকে থাকে এমন স্যানিটেশন")),
    ]),
]

DK = ("dk", T("Don't know", "Não sei", "জানি না"))

# (name, question, [(option, label)...], correct option)
KNOWLEDGE = [
    ("k1", T("In what order does the service chain for on-site sanitation (pits and septic tanks) run?",
             "Qual é a ordem correcta da cadeia de serviços do saneamento no local (latrinas e fossas sépticas)?",
             "অন-সাইট স্যানিটেশনের (পিট ও সেপটিক ট্যাংক) সেবা শৃঙ্খলের সঠিক ক্রম কোনটি?"), [
        ("a", T("Emptying → containment → treatment → transport → reuse/disposal",
                "Esvaziamento → contenção → tratamento → transporte → reutilização/deposição",
                "খালি করা → ধারণ → পরিশোধন → পরিবহন → পুনর্ব্যবহার/নিষ্কাশন")),
        ("b", T("Containment → emptying → transport → treatment → reuse/disposal",
                "Contenção → esvaziamento → transporte → tratamento → reutilização/deposição",
                "ধারণ → খালি করা → পরিবহন → পরিশোধন → পুনর্ব্যবহার/নিষ্কাশন")),
        ("c", T("Transport → containment → emptying → reuse/disposal → treatment",
                "Transporte → contenção → esvaziamento → reutilização/deposição → tratamento",
                "পরিবহন → ধারণ → খালি করা → পুনর্ব্যবহার/নিষ্কাশন → পরিশোধন")),
        ("d", T("Treatment → containment → transport → emptying → reuse/disposal",
                "Tratamento → contenção → transporte → esvaziamento → reutilização/deposição",
                "পরিশোধন → ধারণ → পরিবহন → খালি করা → পুনর্ব্যবহার/নিষ্কাশন")),
    ], "b"),
    ("k2", T("What is faecal sludge?", "O que são lamas fecais?", "মলবর্জ্য (ফিকাল স্লাজ) কী?"), [
        ("a", T("Wastewater carried by sewers to a treatment plant",
                "Águas residuais transportadas pela rede de esgotos até uma estação de tratamento",
                "পয়ঃনালার মাধ্যমে পরিশোধনাগারে নেওয়া বর্জ্যপানি")),
        ("b", T("Solid waste collected from households", "Resíduos sólidos recolhidos nas casas",
                "বাসাবাড়ি থেকে সংগৃহীত কঠিন বর্জ্য")),
        ("c", T("The slurry or solids that build up in pits, latrines and septic tanks",
                "A mistura pastosa ou sólida que se acumula em latrinas, fossas e fossas sépticas",
                "পিট, ল্যাট্রিন ও সেপটিক ট্যাংকে জমে থাকা আধা-তরল বা কঠিন বর্জ্য")),
        ("d", T("Rainwater running off the streets", "Águas pluviais que escorrem das ruas",
                "রাস্তা থেকে গড়িয়ে আসা বৃষ্টির পানি")),
    ], "c"),
    ("k3", T("Why is scheduled (regular) emptying of septic tanks often preferred to emptying only on request?",
             "Porque é que o esvaziamento programado (regular) das fossas sépticas é muitas vezes preferível ao "
             "esvaziamento apenas a pedido?",
             "শুধু চাহিদা অনুযায়ী খালি করার চেয়ে সেপটিক ট্যাংক নির্ধারিত সময় পরপর (নিয়মিত) খালি করাকে প্রায়ই কেন "
             "ভালো মনে করা হয়?"), [
        ("a", T("It is free for households", "É gratuito para as famílias", "এটি পরিবারের জন্য বিনামূল্যে")),
        ("b", T("It makes treatment unnecessary", "Torna o tratamento desnecessário", "এতে পরিশোধনের প্রয়োজন হয় না")),
        ("c", T("International law requires it", "O direito internacional exige-o", "আন্তর্জাতিক আইনে এটি বাধ্যতামূলক")),
        ("d", T("Tanks keep working, overflows are avoided, and operators and the treatment plant can plan their work",
                "As fossas continuam a funcionar, evitam-se transbordos e os operadores e a estação de tratamento "
                "podem planear o trabalho",
                "ট্যাংক সচল থাকে, উপচে পড়া এড়ানো যায়, এবং সেবাদানকারী ও পরিশোধনাগার আগে থেকে কাজের পরিকল্পনা "
                "করতে পারে")),
    ], "d"),
    ("k4", T("Which of these is a way to recover the running costs of faecal sludge services?",
             "Qual destas opções é uma forma de recuperar os custos de funcionamento dos serviços de lamas fecais?",
             "মলবর্জ্য ব্যবস্থাপনা সেবার চলতি খরচ পুনরুদ্ধারের উপায় কোনটি?"), [
        ("a", T("A sanitation fee added to the water bill or the property tax",
                "Uma taxa de saneamento cobrada na factura da água ou no imposto predial autárquico",
                "পানির বিল বা হোল্ডিং ট্যাক্সের সাথে যুক্ত স্যানিটেশন ফি")),
        ("b", T("A one-off donor grant to build a treatment plant",
                "Uma doação única para construir uma estação de tratamento",
                "পরিশোধনাগার নির্মাণের জন্য দাতার এককালীন অনুদান")),
        ("c", T("Asking households to empty their own pits", "Pedir às famílias que esvaziem elas próprias as fossas",
                "পরিবারগুলোকে নিজেদের পিট নিজেরাই খালি করতে বলা")),
        ("d", T("Building more public toilets", "Construir mais sanitários públicos", "আরও গণশৌচাগার নির্মাণ করা")),
    ], "a"),
    ("k5", T("A local government contracts a private emptying operator. What matters most for public health in "
             "the contract?",
             "Um município contrata um operador privado de esvaziamento. O que é mais importante para a saúde "
             "pública no contrato?",
             "একটি স্থানীয় সরকার একটি বেসরকারি খালি করার সেবাদানকারীর সাথে চুক্তি করছে। জনস্বাস্থ্যের জন্য চুক্তিতে "
             "সবচেয়ে গুরুত্বপূর্ণ কী?"), [
        ("a", T("Only the price per trip", "Apenas o preço por viagem", "শুধু প্রতি ট্রিপের দাম")),
        ("b", T("The make of the trucks", "A marca dos camiões", "ট্রাকের ব্র্যান্ড")),
        ("c", T("Sludge is discharged only at an authorised treatment site, workers have protective equipment, and "
                "each trip is recorded",
                "As lamas são descarregadas apenas num local de tratamento autorizado, os trabalhadores têm "
                "equipamento de protecção e cada viagem é registada",
                "মলবর্জ্য শুধু অনুমোদিত পরিশোধন স্থানে ফেলা হবে, কর্মীদের সুরক্ষা সরঞ্জাম থাকবে এবং প্রতিটি ট্রিপের "
                "রেকর্ড রাখা হবে")),
        ("d", T("Nothing: competition between operators is enough",
                "Nada: a concorrência entre operadores é suficiente",
                "কিছুই না: সেবাদানকারীদের মধ্যে প্রতিযোগিতাই যথেষ্ট")),
    ], "c"),
    ("k6", T("Under the Sustainable Development Goals (SDG 6.2), what is 'safely managed' sanitation?",
             "Segundo os Objectivos de Desenvolvimento Sustentável (ODS 6.2), o que é saneamento "
             "'gerido de forma segura'?",
             "টেকসই উন্নয়ন লক্ষ্যমাত্রা (এসডিজি ৬.২) অনুযায়ী 'নিরাপদভাবে ব্যবস্থাপিত' স্যানিটেশন কী?"), [
        ("a", T("Any toilet inside the house", "Qualquer casa de banho dentro de casa", "ঘরের ভেতরে যেকোনো টয়লেট")),
        ("b", T("An improved toilet, not shared with other households, whose excreta are safely disposed of on site "
                "or removed and treated elsewhere",
                "Uma instalação sanitária melhorada, não partilhada com outros agregados familiares, cujos dejectos "
                "são eliminados com segurança no local ou removidos e tratados noutro lugar",
                "অন্য পরিবারের সাথে ভাগাভাগি করা হয় না এমন উন্নত টয়লেট, যার মলবর্জ্য নিরাপদে সেখানেই নিষ্কাশিত হয় "
                "অথবা সরিয়ে নিয়ে অন্যত্র পরিশোধন করা হয়")),
        ("c", T("A toilet shared by fewer than ten households",
                "Uma latrina partilhada por menos de dez agregados familiares",
                "দশটির কম পরিবার ভাগাভাগি করে ব্যবহার করে এমন টয়লেট")),
        ("d", T("Any latrine at least 30 metres from a well", "Qualquer latrina a pelo menos 30 metros de um poço",
                "কূপ থেকে অন্তত ৩০ মিটার দূরের যেকোনো ল্যাট্রিন")),
    ], "b"),
    ("k7", T("Which of these makes a public toilet more accessible to people with disabilities?",
             "Qual destas medidas torna um sanitário público mais acessível a pessoas com deficiência?",
             "কোনটি গণশৌচাগারকে প্রতিবন্ধী ব্যক্তিদের জন্য আরও সহজে ব্যবহারযোগ্য করে?"), [
        ("a", T("Higher user fees", "Taxas de utilização mais altas", "ব্যবহারের ফি বাড়ানো")),
        ("b", T("Building it further from homes", "Construí-lo mais longe das casas", "বাড়িঘর থেকে আরও দূরে নির্মাণ করা")),
        ("c", T("Opening it only during office hours", "Abri-lo apenas durante o horário de expediente",
                "শুধু অফিস সময়ে খোলা রাখা")),
        ("d", T("A ramp, a wide door and grab bars", "Uma rampa, uma porta larga e barras de apoio",
                "র‍্যাম্প, চওড়া দরজা ও ধরার হাতল")),
    ], "d"),
    ("k8", T("In a flood-prone area, which measure makes on-site sanitation more resilient to climate risks?",
             "Numa zona propensa a cheias, que medida torna o saneamento no local mais resiliente aos riscos "
             "climáticos?",
             "বন্যাপ্রবণ এলাকায় কোন ব্যবস্থা অন-সাইট স্যানিটেশনকে জলবায়ু ঝুঁকির বিরুদ্ধে বেশি সহনশীল করে?"), [
        ("a", T("Raised, sealed pits or tanks built above the usual flood level",
                "Fossas ou tanques elevados e vedados, construídos acima do nível habitual das cheias",
                "সাধারণ বন্যার উচ্চতার ওপরে নির্মিত উঁচু ও সিল করা পিট বা ট্যাংক")),
        ("b", T("Deeper unlined pits", "Fossas mais fundas e sem revestimento", "আরও গভীর, আস্তরণবিহীন পিট")),
        ("c", T("Emptying pits into drains during floods",
                "Esvaziar as fossas para as valas de drenagem durante as cheias",
                "বন্যার সময় পিটের বর্জ্য নালায় ফেলে দেওয়া")),
        ("d", T("Building latrines close to rivers", "Construir latrinas perto dos rios", "নদীর কাছে ল্যাট্রিন নির্মাণ করা")),
    ], "a"),
]

KNOWLEDGE_MAX = len(KNOWLEDGE)


def _rated(name: str) -> str:
    return f"${{{name}}} != '' and ${{{name}}} != 'na'"


def capacity_rows() -> list:
    rows = [note("cap_intro", T(
        "For each area, ask: 'How would you rate your own capacity in this area today?' Read the scale aloud. "
        "Choose 'Not applicable' only if the area is not part of the participant's work at all.",
        "Para cada área, pergunte: 'Como avalia hoje a sua própria capacidade nesta área?' Leia a escala em voz "
        "alta. Escolha 'Não se aplica' só se a área não fizer parte do trabalho do/a participante.",
        "প্রতিটি ক্ষেত্রের জন্য জিজ্ঞেস করুন: 'এই ক্ষেত্রে আজ আপনি নিজের সক্ষমতাকে কেমন মনে করেন?' স্কেলটি জোরে "
        "পড়ে শোনান। ক্ষেত্রটি অংশগ্রহণকারীর কাজের একেবারেই অংশ না হলে তবেই 'প্রাসঙ্গিক নয়' বেছে নিন।"))]
    names = []
    for group, glabel, items in CAPACITY_ITEMS:
        rows.append(begin_group(group, glabel))
        for name, label in items:
            rows.append(q("select_one capacity5", name, label, required=True, appearance="likert"))
            names.append(name)
        rows.append(end_group(group))
    total = " + ".join(f"if({_rated(n)}, number(${{{n}}}), 0)" for n in names)
    count = " + ".join(f"if({_rated(n)}, 1, 0)" for n in names)
    rows += [
        calc("capacity_n_rated", count),
        # Mean over the areas rated (N/A left out); empty when none was rated.
        calc("capacity_mean", f"if(${{capacity_n_rated}} > 0, round(({total}) div ${{capacity_n_rated}}, 2), '')"),
    ]
    return rows


def knowledge_rows() -> list:
    rows = [
        begin_group("knowledge", T("Knowledge questions", "Perguntas de conhecimento", "জ্ঞানভিত্তিক প্রশ্ন")),
        note("knowledge_intro", T(
            "Read aloud: 'Now a few questions about sanitation services. This is not an exam. If you do not know, "
            "please say so: that is a useful answer too.' Read each question and all its options; do not help.",
            "Leia em voz alta: 'Agora algumas perguntas sobre serviços de saneamento. Não é um exame. Se não "
            "souber, diga: também é uma resposta útil.' Leia cada pergunta e todas as opções; não ajude.",
            "জোরে পড়ে শোনান: 'এখন স্যানিটেশন সেবা নিয়ে কয়েকটি প্রশ্ন। এটি কোনো পরীক্ষা নয়। উত্তর জানা না থাকলে "
            "দয়া করে বলুন: সেটিও একটি কাজের উত্তর।' প্রতিটি প্রশ্ন ও সব বিকল্প পড়ে শোনান; কোনো সাহায্য করবেন না।")),
    ]
    for name, label, _options, _answer in KNOWLEDGE:
        rows.append(q(f"select_one {name}", name, label, required=True))
    rows += [
        calc("knowledge_score", " + ".join(f"if(${{{n}}} = '{a}', 1, 0)" for n, _, _, a in KNOWLEDGE)),
        calc("knowledge_dk", " + ".join(f"if(${{{n}}} = 'dk', 1, 0)" for n, _, _, _ in KNOWLEDGE)),
        calc("knowledge_pct", f"round(${{knowledge_score}} * 100 div {KNOWLEDGE_MAX}, 0)"),
        end_group("knowledge"),
    ]
    return rows


def form(public_key: str = "") -> Form:
    rows = [
        *c.metadata(),
        *c.linkage(),
        *c.consent_gate(CONSENT_INFO, CONSENT_Q),
        begin_group("workplace", T("Local government and role", "Governo local e função", "স্থানীয় সরকার ও পদ")),
        *c.place(preload=True),
        *c.role(preload=True),
        q("select_one yes_no", "p2p_since_last",
          T("Since the last round, have you taken part in a P2P learning event?",
            "Desde a última ronda, participou em algum evento de aprendizagem entre pares (P2P)?",
            "গত রাউন্ডের পর থেকে আপনি কি কোনো P2P শিখন অনুষ্ঠানে অংশ নিয়েছেন?"),
          required=True, relevant="${round} != 'baseline'"),
        end_group("workplace"),
        begin_group("capacity", T("Self-assessed capacity", "Auto-avaliação das capacidades", "নিজের সক্ষমতার মূল্যায়ন")),
        *capacity_rows(),
        end_group("capacity"),
        *knowledge_rows(),
        c.closing(),
        c.end_gate(),
    ]
    choices = {
        "yes_no": c.YES_NO,
        "round": c.ROUNDS,
        **c.place_choices(),
        "role": c.ROLES,
        "capacity5": CAPACITY5,
    }
    for name, _label, options, _answer in KNOWLEDGE:
        choices[name] = [Choice(o, l) for o, l in options] + [Choice(DK[0], DK[1])]
    sealed = bool(public_key)
    return Form(
        file_name="capacity_sealed.xlsx" if sealed else "capacity.xlsx",
        form_id="p2p_capacity_sealed" if sealed else "p2p_capacity",
        version=c.VERSION,
        title="P2P sanitation study — capacity assessment" + (" (sealed)" if sealed else ""),
        instance_name="concat('CAP ', ${participant_id}, ' ', ${round})",
        rows=rows,
        choices=choices,
        public_key=public_key,
    )
