"""Countries, provinces / districts and local governments for the cascading
selects (country -> province or district -> local government).

Mozambique: provinces and their municipalities (municípios).
Bangladesh: districts (zila) and their pourashavas and city corporations.
Each local government also carries its country, so a select can filter on
country alone (event feedback: host and visiting local governments).
The `*_other` entries (country `any`) let the enumerator type a place that is
not listed; the forms then ask for its name.
"""

from .xlsform import Choice, T

COUNTRIES = [
    Choice("mz", T("Mozambique", "Moçambique", "মোজাম্বিক")),
    Choice("bd", T("Bangladesh", "Bangladesh", "বাংলাদেশ")),
    Choice("other", T("Other country (specify)", "Outro país (especifique)", "অন্য দেশ (উল্লেখ করুন)")),
]

# (code, English, Portuguese, Bengali)
MZ_PROVINCES = [
    ("mz_maputo_city", "Maputo City", "Cidade de Maputo", "মাপুতো শহর"),
    ("mz_maputo_prov", "Maputo Province", "Província de Maputo", "মাপুতো প্রদেশ"),
    ("mz_gaza", "Gaza", "Gaza", "গাজা"),
    ("mz_inhambane", "Inhambane", "Inhambane", "ইনহাম্বানে"),
    ("mz_sofala", "Sofala", "Sofala", "সোফালা"),
    ("mz_manica", "Manica", "Manica", "মানিকা"),
    ("mz_tete", "Tete", "Tete", "তেতে"),
    ("mz_zambezia", "Zambézia", "Zambézia", "জাম্বেজিয়া"),
    ("mz_nampula", "Nampula", "Nampula", "নামপুলা"),
    ("mz_cabo_delgado", "Cabo Delgado", "Cabo Delgado", "কাবো দেলগাদো"),
    ("mz_niassa", "Niassa", "Niassa", "নিয়াসা"),
]

BD_DISTRICTS = [
    ("bd_faridpur", "Faridpur", "Faridpur", "ফরিদপুর"),
    ("bd_jhenaidah", "Jhenaidah", "Jhenaidah", "ঝিনাইদহ"),
    ("bd_kushtia", "Kushtia", "Kushtia", "কুষ্টিয়া"),
    ("bd_khulna", "Khulna", "Khulna", "খুলনা"),
    ("bd_jashore", "Jashore", "Jashore", "যশোর"),
    ("bd_satkhira", "Satkhira", "Satkhira", "সাতক্ষীরা"),
    ("bd_bagerhat", "Bagerhat", "Bagerhat", "বাগেরহাট"),
    ("bd_meherpur", "Meherpur", "Meherpur", "মেহেরপুর"),
    ("bd_chuadanga", "Chuadanga", "Chuadanga", "চুয়াডাঙ্গা"),
    ("bd_tangail", "Tangail", "Tangail", "টাঙ্গাইল"),
    ("bd_lakshmipur", "Lakshmipur", "Lakshmipur", "লক্ষ্মীপুর"),
    ("bd_gazipur", "Gazipur", "Gazipur", "গাজীপুর"),
    ("bd_dhaka", "Dhaka", "Daca", "ঢাকা"),
    ("bd_chattogram", "Chattogram", "Chittagong (Chattogram)", "চট্টগ্রাম"),
    ("bd_rajshahi", "Rajshahi", "Rajshahi", "রাজশাহী"),
]

# Mozambican municipalities: (code, province, name, Bengali name). The name is
# the same in English and Portuguese.
MZ_MUNICIPALITIES = [
    ("mz_maputo", "mz_maputo_city", "Maputo", "মাপুতো"),
    ("mz_matola", "mz_maputo_prov", "Matola", "মাতোলা"),
    ("mz_boane", "mz_maputo_prov", "Boane", "বোয়ানে"),
    ("mz_manhica", "mz_maputo_prov", "Manhiça", "মানিসা"),
    ("mz_namaacha", "mz_maputo_prov", "Namaacha", "নামাশা"),
    ("mz_xai_xai", "mz_gaza", "Xai-Xai", "শাই-শাই"),
    ("mz_chokwe", "mz_gaza", "Chókwè", "চোকওয়ে"),
    ("mz_chibuto", "mz_gaza", "Chibuto", "চিবুতো"),
    ("mz_inhambane", "mz_inhambane", "Inhambane", "ইনহাম্বানে"),
    ("mz_maxixe", "mz_inhambane", "Maxixe", "মাশিশে"),
    ("mz_vilankulo", "mz_inhambane", "Vilankulo", "ভিলাঙ্কুলো"),
    ("mz_beira", "mz_sofala", "Beira", "বেইরা"),
    ("mz_dondo", "mz_sofala", "Dondo", "দোন্দো"),
    ("mz_nhamatanda", "mz_sofala", "Nhamatanda", "নিয়ামাতান্দা"),
    ("mz_gorongosa", "mz_sofala", "Gorongosa", "গোরোঙ্গোসা"),
    ("mz_chimoio", "mz_manica", "Chimoio", "চিমোইও"),
    ("mz_manica", "mz_manica", "Manica", "মানিকা"),
    ("mz_gondola", "mz_manica", "Gondola", "গোন্দোলা"),
    ("mz_tete", "mz_tete", "Tete", "তেতে"),
    ("mz_moatize", "mz_tete", "Moatize", "মোয়াতিজে"),
    ("mz_quelimane", "mz_zambezia", "Quelimane", "কেলিমানে"),
    ("mz_mocuba", "mz_zambezia", "Mocuba", "মোকুবা"),
    ("mz_gurue", "mz_zambezia", "Gurué", "গুরুয়ে"),
    ("mz_milange", "mz_zambezia", "Milange", "মিলাঙ্গে"),
    ("mz_nampula", "mz_nampula", "Nampula", "নামপুলা"),
    ("mz_nacala", "mz_nampula", "Nacala Porto", "নাকালা পোর্তো"),
    ("mz_angoche", "mz_nampula", "Angoche", "আঙ্গোশে"),
    ("mz_ilha", "mz_nampula", "Ilha de Moçambique", "ইলিয়া দে মোসাম্বিকে (মোজাম্বিক দ্বীপ)"),
    ("mz_pemba", "mz_cabo_delgado", "Pemba", "পেম্বা"),
    ("mz_montepuez", "mz_cabo_delgado", "Montepuez", "মন্তেপুয়েজ"),
    ("mz_lichinga", "mz_niassa", "Lichinga", "লিশিঙ্গা"),
    ("mz_cuamba", "mz_niassa", "Cuamba", "কুয়াম্বা"),
]

# Bangladeshi local governments: (code, district, kind, English name, Bengali name)
# kind: "p" pourashava (municipality), "cc" city corporation.
BD_LOCAL_GOVS = [
    ("bd_faridpur_p", "bd_faridpur", "p", "Faridpur", "ফরিদপুর"),
    ("bd_boalmari_p", "bd_faridpur", "p", "Boalmari", "বোয়ালমারী"),
    ("bd_bhanga_p", "bd_faridpur", "p", "Bhanga", "ভাঙ্গা"),
    ("bd_jhenaidah_p", "bd_jhenaidah", "p", "Jhenaidah", "ঝিনাইদহ"),
    ("bd_kotchandpur_p", "bd_jhenaidah", "p", "Kotchandpur", "কোটচাঁদপুর"),
    ("bd_shailkupa_p", "bd_jhenaidah", "p", "Shailkupa", "শৈলকুপা"),
    ("bd_maheshpur_p", "bd_jhenaidah", "p", "Maheshpur", "মহেশপুর"),
    ("bd_kaliganj_p", "bd_jhenaidah", "p", "Kaliganj", "কালীগঞ্জ"),
    ("bd_kushtia_p", "bd_kushtia", "p", "Kushtia", "কুষ্টিয়া"),
    ("bd_kumarkhali_p", "bd_kushtia", "p", "Kumarkhali", "কুমারখালী"),
    ("bd_bheramara_p", "bd_kushtia", "p", "Bheramara", "ভেড়ামারা"),
    ("bd_khulna_cc", "bd_khulna", "cc", "Khulna", "খুলনা"),
    ("bd_chalna_p", "bd_khulna", "p", "Chalna", "চালনা"),
    ("bd_paikgachha_p", "bd_khulna", "p", "Paikgachha", "পাইকগাছা"),
    ("bd_jashore_p", "bd_jashore", "p", "Jashore", "যশোর"),
    ("bd_benapole_p", "bd_jashore", "p", "Benapole", "বেনাপোল"),
    ("bd_jhikargachha_p", "bd_jashore", "p", "Jhikargachha", "ঝিকরগাছা"),
    ("bd_satkhira_p", "bd_satkhira", "p", "Satkhira", "সাতক্ষীরা"),
    ("bd_kalaroa_p", "bd_satkhira", "p", "Kalaroa", "কলারোয়া"),
    ("bd_bagerhat_p", "bd_bagerhat", "p", "Bagerhat", "বাগেরহাট"),
    ("bd_mongla_p", "bd_bagerhat", "p", "Mongla Port", "মোংলা পোর্ট"),
    ("bd_meherpur_p", "bd_meherpur", "p", "Meherpur", "মেহেরপুর"),
    ("bd_gangni_p", "bd_meherpur", "p", "Gangni", "গাংনী"),
    ("bd_chuadanga_p", "bd_chuadanga", "p", "Chuadanga", "চুয়াডাঙ্গা"),
    ("bd_alamdanga_p", "bd_chuadanga", "p", "Alamdanga", "আলমডাঙ্গা"),
    ("bd_tangail_p", "bd_tangail", "p", "Tangail", "টাঙ্গাইল"),
    ("bd_sakhipur_p", "bd_tangail", "p", "Sakhipur", "সখিপুর"),
    ("bd_lakshmipur_p", "bd_lakshmipur", "p", "Lakshmipur", "লক্ষ্মীপুর"),
    ("bd_gazipur_cc", "bd_gazipur", "cc", "Gazipur", "গাজীপুর"),
    ("bd_dhaka_north_cc", "bd_dhaka", "cc", "Dhaka North", "ঢাকা উত্তর"),
    ("bd_dhaka_south_cc", "bd_dhaka", "cc", "Dhaka South", "ঢাকা দক্ষিণ"),
    ("bd_chattogram_cc", "bd_chattogram", "cc", "Chattogram", "চট্টগ্রাম"),
    ("bd_rajshahi_cc", "bd_rajshahi", "cc", "Rajshahi", "রাজশাহী"),
]

PROVINCE_OTHER = "prov_other"
LOCAL_GOV_OTHER = "lg_other"


def provinces() -> list[Choice]:
    out = [Choice(c, T(en, pt, bn), country="mz") for c, en, pt, bn in MZ_PROVINCES]
    out += [Choice(c, T(en, pt, bn), country="bd") for c, en, pt, bn in BD_DISTRICTS]
    out.append(Choice(PROVINCE_OTHER, T("Other (specify)", "Outra (especifique)", "অন্যান্য (উল্লেখ করুন)"),
                      country="any"))
    return out


def local_governments() -> list[Choice]:
    out = [
        Choice(c, T(name, name, f"{bn}"), country="mz", province=prov)
        for c, prov, name, bn in MZ_MUNICIPALITIES
    ]
    for c, prov, kind, en, bn in BD_LOCAL_GOVS:
        if kind == "cc":
            label = T(f"{en} City Corporation", f"{en} (corporação municipal / City Corporation)",
                      f"{bn} সিটি কর্পোরেশন")
        else:
            label = T(f"{en} Pourashava", f"{en} (município / pourashava)", f"{bn} পৌরসভা")
        out.append(Choice(c, label, country="bd", province=prov))
    out.append(Choice(LOCAL_GOV_OTHER,
                      T("Other local government (specify)", "Outro município / governo local (especifique)",
                        "অন্য স্থানীয় সরকার প্রতিষ্ঠান (উল্লেখ করুন)"),
                      country="any", province="any"))
    return out
