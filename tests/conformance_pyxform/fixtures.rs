//! The XLSForms both converters get. Each sheet is written as a table, one
//! row a line, cells separated by `|` (so a cell cannot hold `|`; the
//! fixtures use `union` nowhere), empty cells left blank.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Workbook, XlsxError};

pub struct Fixture {
    pub name: &'static str,
    pub survey: &'static str,
    pub choices: &'static str,
    pub settings: &'static str,
    /// CSV files written beside the form (`select_one_from_file`).
    pub files: &'static [(&'static str, &'static str)],
}

impl Fixture {
    /// Writes `NAME.xlsx` (and its CSV files) into `dir`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, XlsxError> {
        let mut book = Workbook::new();
        for (sheet, table) in
            [("survey", self.survey), ("choices", self.choices), ("settings", self.settings)]
        {
            let rows = table_rows(table);
            if rows.is_empty() {
                continue;
            }
            let ws = book.add_worksheet();
            ws.set_name(sheet)?;
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    if !cell.is_empty() {
                        ws.write_string(r as u32, c as u16, cell.as_str())?;
                    }
                }
            }
        }
        for (name, text) in self.files {
            std::fs::write(dir.join(name), text)?;
        }
        let path = dir.join(format!("{}.xlsx", self.name));
        book.save(&path)?;
        Ok(path)
    }
}

fn table_rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
        .collect()
}

pub fn all() -> Vec<Fixture> {
    vec![
        Fixture {
            name: "question_types",
            survey: "
                type | name | label | parameters | calculation | appearance
                text | t | Text
                integer | i | Integer
                decimal | d | Decimal
                range | r | Range | start=0 end=10 step=2
                range | rd | Range decimal | start=0 end=1 step=0.1
                select_one yn | s1 | Select one | | | minimal
                select_multiple fruit | sm | Select many
                rank fruit | rk | Rank
                note | n | A note
                acknowledge | ack | Acknowledge
                date | da | Date
                time | ti | Time
                dateTime | dt | Date and time
                geopoint | gp | Point | capture-accuracy=5
                geotrace | gt | Trace
                geoshape | gs | Shape
                image | im | Image | max-pixels=1024
                audio | au | Audio
                video | vi | Video
                file | fi | File
                barcode | bc | Barcode
                calculate | c | | | ${i} * 2
                hidden | h
            ",
            choices: "
                list_name | name | label
                yn | yes | Yes
                yn | no | No
                fruit | apple | Apple
                fruit | mango | Mango
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "metadata",
            survey: "
                type | name | label | parameters
                start | start
                end | end
                today | today
                deviceid | deviceid
                username | username
                email | email
                phonenumber | phonenumber
                audit | audit | | location-priority=balanced location-min-interval=10 location-max-age=20
                text | q | Question
            ",
            choices: "",
            settings: "
                form_title | form_id | version | instance_name
                Metadata & <more> | meta_form | 2024061301 | concat('resp-', ${q})
            ",
            files: &[],
        },
        Fixture {
            name: "groups",
            survey: "
                type | name | label | relevant | appearance | required
                integer | age | Age | | | yes
                begin_group | adult | Adult section | ${age} >= 18 | field-list
                text | job | Job | | | true()
                begin_group | inner | Inner
                text | employer | Employer | ${job} != ''
                end_group
                end_group
                begin_group | nolabel
                text | x | X | | | no
                end_group
            ",
            choices: "",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "nested_repeats",
            survey: "
                type | name | label | repeat_count | calculation | relevant | constraint
                integer | n_members | How many members?
                begin_repeat | member | Member | ${n_members}
                text | mname | Name
                integer | mage | Age | | | | . >= 0
                begin_group | work | Work | | | ${mage} >= 15
                text | occupation | Occupation | | | | . != ${mname}
                text | sector | Sector | | | ${occupation} != ''
                end_group
                begin_repeat | child | Child | ${mage} - 14
                text | cname | Child name
                calculate | parent | | | ${mname}
                calculate | pos | | | position(..)
                end_repeat
                calculate | n_children | | | count(${child})
                end_repeat
                begin_repeat | visit | Visit
                date | vdate | Date
                end_repeat
                calculate | total_age | | | sum(${mage})
                calculate | first | | | indexed-repeat(${mname}, ${member}, 1)
            ",
            choices: "",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "multilingual",
            survey: "
                type | name | label::English (en) | label::Português (pt) | hint::English (en) | hint::Português (pt) | guidance_hint::English (en) | constraint | constraint_message::English (en) | constraint_message::Português (pt) | required | required_message::English (en) | media::image::English (en) | media::audio::Português (pt)
                text | name | Name | Nome | Full name | Nome completo | Ask for the ID card | | | | yes | Please answer
                integer | age | Age of ${name} | Idade de ${name} | | | | . < 120 | Too old | Velho demais | | | age.png | idade.mp3
                select_one yn | ok | OK? | Tudo bem?
                note | bye | Thank you
            ",
            choices: "
                list_name | name | label::English (en) | label::Português (pt) | media::image::English (en)
                yn | yes | Yes | Sim | yes.png
                yn | no | No | Não
            ",
            settings: "
                default_language | form_title
                Português (pt) | Multilingual
            ",
            files: &[],
        },
        Fixture {
            name: "choice_filters",
            survey: "
                type | name | label | choice_filter
                select_one country | country | Country
                select_one city | city | City | country = ${country}
                select_multiple city | cities | Cities | country = ${country} or ${country} = ''
                begin_repeat | trip | Trip
                select_one country | tcountry | Trip country
                select_one city | tcity | Trip city | country = ${tcountry} and name != ${city}
                end_repeat
            ",
            choices: "
                list_name | name | label | country
                country | mz | Mozambique
                country | bd | Bangladesh
                city | maputo | Maputo | mz
                city | beira | Beira | mz
                city | dhaka | Dhaka | bd
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "defaults_and_triggers",
            survey: "
                type | name | label | default | trigger | calculation
                integer | n | N | 3
                decimal | w | W | 1.5
                date | d | D | 2020-01-01
                select_multiple fruit | f | Fruits | apple mango
                text | dyn | Dynamic | concat('n=', ${n})
                date | td | Today | today()
                dateTime | stamp | When N changed | | ${n} | now()
                begin_repeat | r | R
                integer | rn | RN | ${n} + 1
                text | rs | RS | fixed
                end_repeat
            ",
            choices: "
                list_name | name | label
                fruit | apple | Apple
                fruit | mango | Mango
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "or_other",
            survey: "
                type | name | label
                select_one source or_other | source | Water source
                select_multiple source or_other | sources | All sources
            ",
            choices: "
                list_name | name | label
                source | well | Well
                source | river | River
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "select_from_file",
            survey: "
                type | name | label | choice_filter | parameters
                select_one region | region | Region
                select_one_from_file towns.csv | town | Town | region = ${region}
                select_multiple_from_file towns.csv | towns | Towns
                select_one_from_file people.csv | person | Person | | value=pid label=pname
            ",
            choices: "
                list_name | name | label
                region | north | North
                region | south | South
            ",
            settings: "",
            files: &[
                ("towns.csv", "name,label,region\nt1,Town one,north\nt2,Town two,south\n"),
                ("people.csv", "pid,pname\np1,Ana\np2,Rui\n"),
            ],
        },
        Fixture {
            name: "settings_and_extras",
            survey: "
                type | name | label | hint | read_only | bind::odk:length | body::rows | appearance
                text | comment | Comment on ${score} | Say more about ${score} | | 5 | 4 | multiline
                integer | score | Score | | ${comment} != ''
            ",
            choices: "",
            settings: "
                form_id | form_title | version | name | style
                extras | Settings & extras | 7 | household | pages
            ",
            files: &[],
        },
        Fixture {
            name: "labels_and_outputs",
            survey: "
                type | name | label | hint | constraint | constraint_message | calculation
                text | hh | Household head | Name of ${hh}'s head
                begin_repeat | member | Member of ${hh}
                text | mname | Name of member | Not ${hh}
                integer | mage | Age of ${mname} | | . < 130 | ${mname} cannot be . years old
                select_one rel | rel | Relation of ${mname} to ${hh}
                end_repeat
                text | shown | Computed and shown | | | | concat(${hh}, '!')
                note | summary | <b>${hh}</b> & family < 10 > 2
            ",
            choices: "
                list_name | name | label
                rel | head | ${hh} (head)
                rel | other | Someone else
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "repeat_details",
            survey: "
                type | name | label | repeat_count | relevant | appearance | default | parameters
                integer | n | N
                begin_repeat | fixed | Fixed | 3
                text | a | A
                end_repeat
                begin_repeat | computed | | ${n} * 2 | ${n} > 0 | field-list
                begin_group | g | G
                integer | b | B | | | | ${n} + 1
                end_group
                end_repeat
                select_one l | s | S | | | | | randomize=true seed=${n}
                select_multiple l | sm | SM | | | | | randomize=true
                range | rg | Range
                audit | audit
            ",
            choices: "
                list_name | name | label
                l | a | A
                l | b | B
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "mixed_languages",
            survey: "
                type | name | label | label::Français (fr) | hint | media::big-image | media::image
                select_one yn or_other | q | Question | Question FR | A hint
                integer | n | Only the default
                image | photo | Photo | | | big.jpg | small.jpg
            ",
            choices: "
                list_name | name | label | label::Français (fr)
                yn | yes | Yes | Oui
                yn | no | No | Non
            ",
            settings: "
                default_language
                English (en)
            ",
            files: &[],
        },
        Fixture {
            name: "pulldata",
            survey: "
                type | name | label | calculation
                text | code | Code
                calculate | price | | pulldata('prices', 'price', 'code', ${code})
                note | show | Price is ${price}
            ",
            choices: "",
            settings: "",
            files: &[("prices.csv", "code,price\na,10\nb,20\n")],
        },
        Fixture {
            name: "table_list",
            survey: "
                type | name | label | hint | appearance
                begin_group | tbl | Which services? | Tick one per row | table-list
                select_one yn | water | Water
                select_one yn | sanitation | Sanitation
                end_group
            ",
            choices: "
                list_name | name | label
                yn | yes | Yes
                yn | no | No
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "odd_labels",
            survey: "
                type | name | label | hint | media::image | media::audio | guidance_hint
                text | hint_only | | Only a hint
                text | media_only | | | photo.jpg
                text | both_media | Both | | a.png | a.mp3 | Ask twice
                select_one pics | pic | Pick a picture
                begin_group | g | | A group hint
                text | in_g | In G
                end_group
            ",
            choices: "
                list_name | name | label | media::image
                pics | cat | | cat.png
                pics | dog | Dog | dog.png
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "instance_outputs",
            survey: "
                type | name | label | hint
                select_one crop | crop | Main crop
                note | chosen | You chose instance('crop')/root/item[name = ${crop}]/label today
                begin_repeat | plot | Plot
                select_one crop | pcrop | Crop of the plot
                note | pchosen | Plot crop: instance('crop')/root/item[name = ${pcrop}]/label | Main: ${crop}
                end_repeat
            ",
            choices: "
                list_name | name | label
                crop | maize | Maize
                crop | rice | Rice
            ",
            settings: "",
            files: &[],
        },
        Fixture {
            name: "search_appearance",
            survey: "
                type | name | label | appearance
                select_one fruits | f | Fruit | search('fruits')
                select_multiple veg | v | Vegetables | minimal search('veg', 'matches', 'k', ${f})
                select_one other | o | Other | quick
            ",
            choices: "
                list_name | name | label
                fruits | apple | Apple
                fruits | mango | Mango
                veg | kale | Kale
                other | x | X
            ",
            settings: "",
            files: &[],
        },
    ]
}
