"""Instrument 3: P2P event feedback (after an event)."""

from . import common as c
from . import places
from .xlsform import Form, T, begin_group, calc, end_group, q

CONSENT_INFO = T(
    "Read aloud: We would like your views on the P2P learning event you just took part in: what was useful, "
    "what you learned and what could be better. It takes about 10 minutes. Taking part is voluntary, you may "
    "skip any question or stop at any time, and your answers are confidential: the organisers will only see "
    "results without names.",
    "Leia em voz alta: Gostaríamos de saber a sua opinião sobre o evento de aprendizagem entre pares (P2P) em "
    "que acabou de participar: o que foi útil, o que aprendeu e o que pode melhorar. Demora cerca de 10 minutos. "
    "A participação é voluntária, pode deixar de responder a qualquer pergunta ou parar a qualquer momento, e as "
    "suas respostas são confidenciais: os organizadores só verão resultados sem nomes.",
    "জোরে পড়ে শোনান: আপনি যে P2P শিখন অনুষ্ঠানে এইমাত্র অংশ নিলেন, সে বিষয়ে আমরা আপনার মতামত জানতে চাই: কী কাজে "
    "লেগেছে, কী শিখেছেন এবং কী আরও ভালো হতে পারত। এতে প্রায় ১০ মিনিট লাগবে। অংশগ্রহণ স্বেচ্ছামূলক, আপনি যেকোনো "
    "প্রশ্ন বাদ দিতে বা যেকোনো সময় থামতে পারেন, এবং আপনার উত্তর গোপন রাখা হবে: আয়োজকেরা শুধু নামবিহীন ফলাফল দেখবেন।",
)
CONSENT_Q = T("Does the participant agree to give feedback?", "O/a participante aceita dar a sua opinião?",
              "অংশগ্রহণকারী কি মতামত দিতে সম্মত?")

EVENT_ROLES = c.choices(
    ("host", T("Host: from the local government that received the visit",
               "Anfitrião: do município que recebeu a visita",
               "আয়োজক: যে স্থানীয় সরকার সফরকারীদের গ্রহণ করেছে")),
    ("visitor", T("Visitor: from a visiting local government", "Visitante: de um município visitante",
                  "অতিথি: সফরকারী স্থানীয় সরকার থেকে")),
    ("other", T("Other (specify)", "Outro (especifique)", "অন্যান্য (উল্লেখ করুন)")),
)

ACTIVITIES = c.choices(
    ("presentations", T("Presentations", "Apresentações", "উপস্থাপনা")),
    ("site_visits", T("Site visits (e.g. treatment plant, emptying service, public toilets)",
                      "Visitas de campo (p. ex. estação de tratamento, serviço de esvaziamento, sanitários públicos)",
                      "মাঠ পরিদর্শন (যেমন পরিশোধনাগার, খালি করার সেবা, গণশৌচাগার)")),
    ("discussions", T("Group discussions", "Discussões em grupo", "দলগত আলোচনা")),
    ("mentoring", T("One-to-one exchange with a peer", "Troca individual com um/a colega", "একজন সহকর্মীর সাথে একান্ত মতবিনিময়")),
    ("action_plan", T("Preparing an action plan", "Preparação de um plano de acção", "কর্মপরিকল্পনা তৈরি")),
    ("other", c.OTHER),
)


def _scale(words):
    digits_bn = "১২৩৪৫"
    return c.choices(*[
        (str(i + 1), T(f"{i + 1} – {en}", f"{i + 1} – {pt}", f"{digits_bn[i]} – {bn}"))
        for i, (en, pt, bn) in enumerate(words)
    ])


RELEVANCE5 = _scale([
    ("Not at all relevant", "Nada relevante", "একেবারেই প্রাসঙ্গিক নয়"),
    ("Slightly relevant", "Pouco relevante", "সামান্য প্রাসঙ্গিক"),
    ("Moderately relevant", "Moderadamente relevante", "মোটামুটি প্রাসঙ্গিক"),
    ("Very relevant", "Muito relevante", "খুব প্রাসঙ্গিক"),
    ("Extremely relevant", "Extremamente relevante", "অত্যন্ত প্রাসঙ্গিক"),
])
USEFUL5 = _scale([
    ("Not at all useful", "Nada útil", "একেবারেই কাজে লাগেনি"),
    ("Slightly useful", "Pouco útil", "সামান্য কাজে লেগেছে"),
    ("Moderately useful", "Moderadamente útil", "মোটামুটি কাজে লেগেছে"),
    ("Very useful", "Muito útil", "খুব কাজে লেগেছে"),
    ("Extremely useful", "Extremamente útil", "অত্যন্ত কাজে লেগেছে"),
])
ENJOY5 = _scale([
    ("Did not enjoy it at all", "Não gostei nada", "একেবারেই ভালো লাগেনি"),
    ("Enjoyed it a little", "Gostei pouco", "সামান্য ভালো লেগেছে"),
    ("Enjoyed it moderately", "Gostei moderadamente", "মোটামুটি ভালো লেগেছে"),
    ("Enjoyed it a lot", "Gostei muito", "খুব ভালো লেগেছে"),
    ("Enjoyed it very much", "Gostei imenso", "অত্যন্ত ভালো লেগেছে"),
])

TIMELINE = c.choices(
    ("lt3", T("Within 3 months", "Dentro de 3 meses", "৩ মাসের মধ্যে")),
    ("3to6", T("In 3 to 6 months", "Dentro de 3 a 6 meses", "৩ থেকে ৬ মাসের মধ্যে")),
    ("6to12", T("In 6 to 12 months", "Dentro de 6 a 12 meses", "৬ থেকে ১২ মাসের মধ্যে")),
    ("gt12", T("After more than 12 months", "Daqui a mais de 12 meses", "১২ মাসেরও পরে")),
    ("unsure", T("Not sure", "Não tenho a certeza", "নিশ্চিত নই")),
)

SELECT_ALL = T("Select all that apply.", "Seleccione todas as opções aplicáveis.", "প্রযোজ্য সবগুলো বেছে নিন।")


def form() -> Form:
    barriers_rule, barriers_msg = c.exclusive_none(T("No barriers", "Nenhuma barreira", "কোনো বাধা নেই"))
    rows = [
        *c.metadata(),
        *c.linkage(),
        *c.consent_gate(CONSENT_INFO, CONSENT_Q),

        begin_group("event_info", T("The event", "O evento", "অনুষ্ঠান")),
        q("select_one event", "event", T("Which P2P event are you giving feedback on?",
                                         "Sobre que evento P2P está a dar a sua opinião?",
                                         "আপনি কোন P2P অনুষ্ঠান সম্পর্কে মতামত দিচ্ছেন?"), required=True),
        c.other_text("event_other", "event", multiple=False),
        q("date", "event_start", T("First day of the event", "Primeiro dia do evento", "অনুষ্ঠানের প্রথম দিন"),
          required=True, constraint=c.DATE_NOT_FUTURE + " and . >= date('2015-01-01')",
          constraint_message=T("The date cannot be in the future or before 2015.",
                               "A data não pode ser no futuro nem anterior a 2015.",
                               "তারিখ ভবিষ্যতের বা ২০১৫ সালের আগের হতে পারবে না।")),
        q("integer", "event_days", T("How many days did the event last?", "Quantos dias durou o evento?",
                                     "অনুষ্ঠানটি কত দিন ধরে চলেছিল?"),
          required=True, constraint=". >= 1 and . <= 14",
          constraint_message=T("Enter between 1 and 14 days.", "Indique entre 1 e 14 dias.",
                               "১ থেকে ১৪ দিনের মধ্যে লিখুন।")),
        q("integer", "days_attended", T("On how many of those days did you attend?",
                                        "Em quantos desses dias participou?",
                                        "তার মধ্যে আপনি কত দিন উপস্থিত ছিলেন?"),
          required=True, constraint=". >= 1 and . <= ${event_days}",
          constraint_message=T("Enter at least 1 and no more than the length of the event.",
                               "Indique pelo menos 1 e não mais do que a duração do evento.",
                               "কমপক্ষে ১ এবং অনুষ্ঠানের মোট দিনের বেশি নয় এমন সংখ্যা লিখুন।")),
        q("select_one event_role", "event_role", T("Were you part of the host or of a visiting local government?",
                                                   "Fazia parte do município anfitrião ou de um município visitante?",
                                                   "আপনি কি আয়োজক না সফরকারী স্থানীয় সরকারের পক্ষ থেকে ছিলেন?"),
          required=True),
        c.other_text("event_role_other", "event_role", multiple=False),
        end_group("event_info"),

        begin_group("host", T("Host local government", "Município anfitrião", "আয়োজক স্থানীয় সরকার")),
        *c.place(prefix="host_", label_lg=T("Which local government hosted the event?",
                                            "Que município acolheu o evento?",
                                            "কোন স্থানীয় সরকার অনুষ্ঠানটি আয়োজন করেছিল?")),
        end_group("host"),
        q("select_multiple local_gov", "visiting_lgs",
          T("Which local governments visited?", "Que municípios participaram como visitantes?",
            "কোন কোন স্থানীয় সরকার সফরে এসেছিল?"),
          hint=SELECT_ALL, required=True, relevant="${host_country} != 'other'",
          choice_filter="(country = ${host_country} or country = 'any') and name != ${host_local_gov}",
          appearance="minimal"),
        q("text", "visiting_lgs_other",
          T("Names of visiting local governments not in the list", "Nomes dos municípios visitantes que não estão na lista",
            "তালিকায় নেই এমন সফরকারী স্থানীয় সরকারের নাম"),
          required=True,
          relevant=f"${{host_country}} = 'other' or selected(${{visiting_lgs}}, '{places.LOCAL_GOV_OTHER}')"),
        q("select_multiple activities", "activities", T("Which activities did you take part in?",
                                                        "Em que actividades participou?",
                                                        "আপনি কোন কোন কার্যক্রমে অংশ নিয়েছেন?"),
          hint=SELECT_ALL, required=True),
        c.other_text("activities_other", "activities"),

        begin_group("ratings", T("Your rating of the event", "A sua avaliação do evento", "অনুষ্ঠান সম্পর্কে আপনার মূল্যায়ন")),
        q("select_one relevance5", "relevance", T("How relevant was the event to your work?",
                                                  "Quão relevante foi o evento para o seu trabalho?",
                                                  "অনুষ্ঠানটি আপনার কাজের জন্য কতটা প্রাসঙ্গিক ছিল?"),
          required=True, appearance="likert"),
        q("select_one useful5", "usefulness", T("How useful was the event to you?", "Quão útil foi o evento para si?",
                                                "অনুষ্ঠানটি আপনার কতটা কাজে লেগেছে?"),
          required=True, appearance="likert"),
        q("select_one enjoy5", "enjoyment", T("How much did you enjoy the event?", "Quanto gostou do evento?",
                                              "অনুষ্ঠানটি আপনার কতটা ভালো লেগেছে?"),
          required=True, appearance="likert"),
        calc("rating_mean", "round((number(${relevance}) + number(${usefulness}) + number(${enjoyment})) div 3, 2)"),
        end_group("ratings"),

        begin_group("learning", T("Learning and application", "Aprendizagem e aplicação", "শিখন ও প্রয়োগ")),
        q("text", "learned", T("What did you learn at the event?", "O que aprendeu no evento?",
                               "অনুষ্ঠানে আপনি কী শিখেছেন?"),
          hint=T("Write the participant's own words.", "Escreva as palavras do/a próprio/a participante.",
                 "অংশগ্রহণকারীর নিজের ভাষায় লিখুন।"), required=True, appearance="multiline"),
        q("select_multiple topics", "learned_topics", T("Which areas did that learning cover?",
                                                        "Que áreas abrangeu essa aprendizagem?",
                                                        "সেই শিখন কোন কোন বিষয়ে ছিল?"),
          hint=SELECT_ALL, required=True),
        c.other_text("learned_topics_other", "learned_topics"),
        q("text", "intend_apply", T("What do you intend to apply in your own local government?",
                                    "O que pretende aplicar no seu próprio município?",
                                    "নিজের স্থানীয় সরকারে আপনি কী প্রয়োগ করতে চান?"),
          required=True, appearance="multiline"),
        q("select_one timeline", "intend_when", T("When do you expect to start applying it?",
                                                  "Quando espera começar a aplicá-lo?",
                                                  "কবে থেকে এটি প্রয়োগ শুরু করবেন বলে আশা করেন?"), required=True),
        q("select_multiple barriers", "expected_barriers",
          T("What could make it hard to apply what you learned?",
            "O que poderá dificultar a aplicação do que aprendeu?",
            "যা শিখেছেন তা প্রয়োগ করতে কী কী বাধা আসতে পারে?"),
          hint=SELECT_ALL, required=True, constraint=barriers_rule, constraint_message=barriers_msg),
        c.other_text("expected_barriers_other", "expected_barriers"),
        q("text", "improve", T("What would improve the event?", "O que poderia melhorar o evento?",
                               "কী করলে অনুষ্ঠানটি আরও ভালো হতো?"), appearance="multiline"),
        q("select_one yes_no_unsure", "recommend",
          T("Would you recommend P2P events like this to colleagues?",
            "Recomendaria eventos P2P como este a colegas?",
            "আপনি কি সহকর্মীদের এ ধরনের P2P অনুষ্ঠানের সুপারিশ করবেন?"), required=True),
        end_group("learning"),
        c.closing(),
        c.end_gate(),
    ]
    return Form(
        file_name="event_feedback.xlsx",
        form_id="p2p_event_feedback",
        version=c.VERSION,
        title="P2P sanitation study — P2P event feedback",
        instance_name="concat('EVT ', ${participant_id}, ' ', ${event})",
        rows=rows,
        choices={
            "yes_no": c.YES_NO,
            "yes_no_unsure": c.YES_NO_UNSURE,
            "round": c.ROUNDS,
            **c.place_choices(),
            "event": c.EVENTS,
            "event_role": EVENT_ROLES,
            "activities": ACTIVITIES,
            "relevance5": RELEVANCE5,
            "useful5": USEFUL5,
            "enjoy5": ENJOY5,
            "topics": c.TOPICS,
            "timeline": TIMELINE,
            "barriers": c.BARRIERS,
        },
    )
