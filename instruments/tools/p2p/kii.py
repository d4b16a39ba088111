"""Instrument 5: key-informant interview record: who, where (geopoint), consent
to record, a consent signature, the audio recording, structured notes by theme, duration."""

from . import common as c
from .xlsform import Choice, Form, T, begin_group, calc, end_group, note, q

CONSENT_INFO = T(
    "Read aloud: We are researchers studying peer-to-peer (P2P) learning between local governments on sanitation "
    "services. We would like to talk with you for about an hour about your experience: what was learned, what "
    "changed, and what helped or hindered. Taking part is voluntary; you may decline any question or stop at any "
    "time. With your permission we will record the conversation so that our notes are accurate; the recording is "
    "kept securely by the research team. We will not name you in any report without your agreement.",
    "Leia em voz alta: Somos investigadores e estudamos a aprendizagem entre pares (P2P) entre governos locais "
    "sobre os serviços de saneamento. Gostaríamos de conversar consigo durante cerca de uma hora sobre a sua "
    "experiência: o que foi aprendido, o que mudou e o que ajudou ou dificultou. A participação é voluntária; "
    "pode recusar qualquer pergunta ou parar a qualquer momento. Com a sua autorização, gravaremos a conversa "
    "para que as nossas notas sejam exactas; a gravação é guardada em segurança pela equipa de investigação. "
    "Não o/a identificaremos em nenhum relatório sem o seu acordo.",
    "জোরে পড়ে শোনান: আমরা গবেষক; স্যানিটেশন সেবা নিয়ে স্থানীয় সরকারগুলোর মধ্যে পিয়ার-টু-পিয়ার (P2P) শিখন নিয়ে "
    "গবেষণা করছি। আপনার অভিজ্ঞতা নিয়ে আমরা প্রায় এক ঘণ্টা কথা বলতে চাই: কী শেখা হয়েছে, কী বদলেছে এবং কী সাহায্য "
    "করেছে বা বাধা দিয়েছে। অংশগ্রহণ স্বেচ্ছামূলক; আপনি যেকোনো প্রশ্নের উত্তর দিতে অস্বীকার করতে বা যেকোনো সময় থামতে "
    "পারেন। আমাদের নোট যেন নির্ভুল হয়, সেজন্য আপনার অনুমতি নিয়ে আমরা কথোপকথন রেকর্ড করব; রেকর্ডিং গবেষক দল নিরাপদে "
    "সংরক্ষণ করবে। আপনার সম্মতি ছাড়া কোনো প্রতিবেদনে আপনার নাম উল্লেখ করা হবে না।",
)
CONSENT_Q = T("Does the informant agree to be interviewed?", "O/a informante aceita ser entrevistado/a?",
              "তথ্যদাতা কি সাক্ষাৎকার দিতে সম্মত?")

INFORMANT_TYPES = c.choices(
    ("lg_staff", T("Local government staff", "Funcionário/a do governo local", "স্থানীয় সরকারের কর্মকর্তা-কর্মচারী")),
    ("elected", T("Elected official", "Eleito/a municipal", "নির্বাচিত জনপ্রতিনিধি")),
    ("national", T("National or provincial government", "Governo central ou provincial",
                   "জাতীয় বা প্রাদেশিক সরকার")),
    ("provider", T("Service provider (e.g. emptying operator, utility)",
                   "Prestador de serviços (p. ex. operador de esvaziamento, empresa de água)",
                   "সেবাদানকারী (যেমন খালি করার সেবাদানকারী, পানি সরবরাহ প্রতিষ্ঠান)")),
    ("partner", T("NGO or development partner", "ONG ou parceiro de cooperação", "এনজিও বা উন্নয়ন সহযোগী")),
    ("community", T("Community representative", "Representante da comunidade", "জনগোষ্ঠীর প্রতিনিধি")),
    ("other", c.OTHER),
)

LOCATION_TYPES = c.choices(
    ("lg_office", T("Local government office", "Escritório do governo local", "স্থানীয় সরকারের কার্যালয়")),
    ("field_site", T("Field site (e.g. treatment plant, neighbourhood)", "Local de campo (p. ex. estação de tratamento, bairro)",
                     "মাঠ পর্যায়ের স্থান (যেমন পরিশোধনাগার, মহল্লা)")),
    ("other_office", T("Another office", "Outro escritório", "অন্য কোনো কার্যালয়")),
    ("remote", T("By phone or online", "Por telefone ou online", "ফোনে বা অনলাইনে")),
    ("other", c.OTHER),
)

# (name, theme label) — one notes field per theme.
THEMES = [
    ("context", T("Sanitation context and the local government's responsibilities",
                  "Contexto do saneamento e responsabilidades do governo local",
                  "স্যানিটেশনের প্রেক্ষাপট ও স্থানীয় সরকারের দায়িত্ব")),
    ("p2p_experience", T("Experience of P2P learning (events, exchanges, follow-up)",
                         "Experiência de aprendizagem entre pares (eventos, intercâmbios, seguimento)",
                         "P2P শিখনের অভিজ্ঞতা (অনুষ্ঠান, বিনিময়, পরবর্তী যোগাযোগ)")),
    ("capacity", T("Individual capacities: what was learned", "Capacidades individuais: o que foi aprendido",
                   "ব্যক্তিগত সক্ষমতা: কী শেখা হয়েছে")),
    ("practice", T("Changes in practices, processes and services", "Mudanças nas práticas, processos e serviços",
                   "চর্চা, প্রক্রিয়া ও সেবায় পরিবর্তন")),
    ("barriers", T("Barriers to P2P learning and to change", "Barreiras à aprendizagem entre pares e à mudança",
                   "P2P শিখন ও পরিবর্তনের পথে বাধা")),
    ("enablers", T("Enablers of P2P learning and of change", "Facilitadores da aprendizagem entre pares e da mudança",
                   "P2P শিখন ও পরিবর্তনের সহায়ক বিষয়")),
    ("finance", T("Finance and resources", "Finanças e recursos", "অর্থায়ন ও সম্পদ")),
    ("networks", T("Sustaining peer networks", "Manutenção das redes de pares", "সহকর্মী নেটওয়ার্ক টিকিয়ে রাখা")),
    ("other", T("Other themes", "Outros temas", "অন্যান্য বিষয়")),
]

THEME_NOTES_HINT = T(
    "Main points in the informant's words; mark direct quotes with quotation marks.",
    "Pontos principais nas palavras do/a informante; assinale as citações directas com aspas.",
    "তথ্যদাতার নিজের ভাষায় মূল বিষয়গুলো; সরাসরি উদ্ধৃতি উদ্ধৃতিচিহ্ন দিয়ে চিহ্নিত করুন।",
)


def form() -> Form:
    theme_rows = []
    for name, label in THEMES:
        theme_rows.append(q("text", f"notes_{name}", label, hint=THEME_NOTES_HINT, required=True,
                            relevant=f"selected(${{themes}}, '{name}')", appearance="multiline"))
    rows = [
        *c.metadata(),
        q("text", "interviewer", T("Interviewer's name", "Nome do/a entrevistador/a", "সাক্ষাৎকারগ্রহণকারীর নাম"),
          required=True, pii=True),
        *c.linkage(id_hint=T(
            "The informant's ID from the roster (e.g. MZ-0042). Informants not on the roster get an ID from the "
            "field supervisor before the interview.",
            "O código do/a informante na lista (p. ex. MZ-0042). Informantes que não estão na lista recebem um "
            "código do/a supervisor/a de campo antes da entrevista.",
            "তালিকা থেকে তথ্যদাতার আইডি (যেমন BD-0042)। তালিকায় নেই এমন তথ্যদাতা সাক্ষাৎকারের আগে মাঠ "
            "তত্ত্বাবধায়কের কাছ থেকে আইডি পাবেন।")),
        q("date", "kii_date", T("Date of the interview", "Data da entrevista", "সাক্ষাৎকারের তারিখ"),
          required=True, default="today()", constraint=c.DATE_NOT_FUTURE,
          constraint_message=c.DATE_NOT_FUTURE_MSG),
        *c.consent_gate(CONSENT_INFO, CONSENT_Q),
        q("select_one yes_no", "consent_record",
          T("Does the informant agree to the interview being audio-recorded?",
            "O/a informante aceita que a entrevista seja gravada em áudio?",
            "তথ্যদাতা কি সাক্ষাৎকারের অডিও রেকর্ডিংয়ে সম্মত?"), required=True),
        q("image", "consent_signature",
          T("Informant's signature of consent", "Assinatura de consentimento do/a informante",
            "তথ্যদাতার সম্মতিসূচক স্বাক্ষর"),
          hint=T("Ask the informant to sign on the screen. Leave blank if they prefer not to sign; "
                 "their spoken consent is enough.",
                 "Peça ao/à informante que assine no ecrã. Deixe em branco se preferir não assinar; "
                 "o consentimento oral é suficiente.",
                 "তথ্যদাতাকে পর্দায় স্বাক্ষর করতে বলুন। স্বাক্ষর করতে না চাইলে ফাঁকা রাখুন; "
                 "মৌখিক সম্মতিই যথেষ্ট।"),
          appearance="signature", parameters="max-pixels=1024"),

        begin_group("informant", T("Informant", "Informante", "তথ্যদাতা")),
        q("text", "informant_name", T("Informant's name (optional)", "Nome do/a informante (opcional)",
                                      "তথ্যদাতার নাম (ঐচ্ছিক)"), pii=True),
        q("select_one informant_type", "informant_type", T("Type of informant", "Tipo de informante", "তথ্যদাতার ধরন"),
          required=True),
        c.other_text("informant_type_other", "informant_type", multiple=False),
        *c.place(preload=True),
        *c.role(preload=True, relevant="${informant_type} = 'lg_staff' or ${informant_type} = 'elected'"),
        end_group("informant"),

        begin_group("setting", T("Place and time", "Local e hora", "স্থান ও সময়")),
        q("select_one location_type", "location_type", T("Where is the interview taking place?",
                                                          "Onde decorre a entrevista?",
                                                          "সাক্ষাৎকারটি কোথায় হচ্ছে?"), required=True),
        c.other_text("location_type_other", "location_type", multiple=False),
        q("geopoint", "location", T("GPS location of the interview", "Localização GPS da entrevista",
                                    "সাক্ষাৎকারের জিপিএস অবস্থান"),
          hint=T("Record outdoors if possible. Leave blank if no signal after two minutes.",
                 "Se possível, registe ao ar livre. Deixe em branco se não houver sinal após dois minutos.",
                 "সম্ভব হলে বাইরে গিয়ে নিন। দুই মিনিটেও সংকেত না পেলে ফাঁকা রাখুন।"),
          relevant="${location_type} != 'remote'"),
        q("time", "time_start", T("Time the interview started", "Hora de início da entrevista",
                                  "সাক্ষাৎকার শুরুর সময়"), required=True),
        end_group("setting"),

        begin_group("recording", T("Recording", "Gravação", "রেকর্ডিং"), relevant="${consent_record} = 'yes'"),
        q("audio", "audio", T("Audio recording of the interview", "Gravação áudio da entrevista",
                              "সাক্ষাৎকারের অডিও রেকর্ডিং"),
          hint=T("Record the whole interview. If the device stops, record the rest as a note in 'Other themes'.",
                 "Grave toda a entrevista. Se o aparelho parar, registe o resto como nota em 'Outros temas'.",
                 "পুরো সাক্ষাৎকার রেকর্ড করুন। যন্ত্র বন্ধ হয়ে গেলে বাকিটা 'অন্যান্য বিষয়'-এ নোট হিসেবে লিখুন।")),
        end_group("recording"),

        begin_group("notes", T("Notes by theme", "Notas por tema", "বিষয়ভিত্তিক নোট")),
        q("select_multiple themes", "themes", T("Which themes were covered?", "Que temas foram abordados?",
                                                "কোন কোন বিষয়ে আলোচনা হয়েছে?"),
          hint=T("Select all that apply; a notes field opens for each.",
                 "Seleccione todos os aplicáveis; abre-se um campo de notas para cada um.",
                 "প্রযোজ্য সবগুলো বেছে নিন; প্রতিটির জন্য একটি নোটের ঘর খুলবে।"), required=True),
        *theme_rows,
        q("text", "documents", T("Documents mentioned or to request", "Documentos mencionados ou a solicitar",
                                 "উল্লিখিত বা সংগ্রহ করতে হবে এমন নথি"), appearance="multiline"),
        q("text", "reflection", T("Interviewer's reflections (setting, dynamics, anything unusual)",
                                  "Reflexões do/a entrevistador/a (ambiente, dinâmica, algo fora do comum)",
                                  "সাক্ষাৎকারগ্রহণকারীর পর্যবেক্ষণ (পরিবেশ, আলাপের ধরন, অস্বাভাবিক কিছু)"),
          appearance="multiline"),
        end_group("notes"),

        q("time", "time_end", T("Time the interview ended", "Hora de fim da entrevista", "সাক্ষাৎকার শেষের সময়"),
          required=True, constraint="decimal-time(.) > decimal-time(${time_start})",
          constraint_message=T("The end time must be after the start time.",
                               "A hora de fim tem de ser posterior à hora de início.",
                               "শেষের সময় শুরুর সময়ের পরে হতে হবে।")),
        calc("duration_min", "round((decimal-time(${time_end}) - decimal-time(${time_start})) * 1440, 0)"),
        note("duration_note", T("Duration: ${duration_min} minutes.", "Duração: ${duration_min} minutos.",
                                "সময়কাল: ${duration_min} মিনিট।"),
             relevant="${time_end} != ''"),
        c.closing(),
        c.end_gate(),
    ]
    return Form(
        file_name="kii.xlsx",
        form_id="p2p_kii",
        version=c.VERSION,
        title="P2P sanitation study — key-informant interview record",
        instance_name="concat('KII ', ${participant_id}, ' ', ${kii_date})",
        rows=rows,
        choices={
            "yes_no": c.YES_NO,
            "round": c.ROUNDS,
            **c.place_choices(),
            "role": c.ROLES,
            "informant_type": INFORMANT_TYPES,
            "location_type": LOCATION_TYPES,
            "themes": [Choice(n, l) for n, l in THEMES],
        },
    )
