"""Shapes of names and postal addresses strong enough to find without a statistical model.

Names: surname with initials, first name with patronymic, a name after a title or in a
greeting/signature. Addresses: a street type with a house number (Russian), a house number,
street name and street suffix (English), with the city, unit and postcode around them.
"""

from __future__ import annotations

import re

from etl_express.detect import entities as E
from etl_express.detect.rules import PatternRule, Shape

_RU_WORD = r"[А-ЯЁ][а-яё]+(?:-[А-ЯЁ][а-яё]+)?"
_RU_INITIALS = r"[А-ЯЁ]\.\s?[А-ЯЁ]\."
_PATRONYMIC = r"[А-ЯЁ][а-яё]+(?:[оеё]вич|[оеё]вн|ичн|инич|[ьи]ич|ьич)[а-яё]{0,3}"
# Common Russian surname endings, in any case form ("Ивановой", "Лукину", "Дементьев").
_SURNAME = (
    r"[А-ЯЁ][а-яё]*(?:ов|ев|ёв|ин|ын|ск|цк|их|ых)(?:а|у|ой|ым|ом|е|ому|ого|ую|ая|ий|ая|ым|ой)?"
)
_EN_WORD = r"[A-Z][a-z]+(?:[\-'][A-Z][a-z]+)?"
_NOT_NAME_WORDS = (
    r"Customer|Client|Team|Support|Sir|Madam|All|Colleagues|Friends|Partner|Partners|"
    r"Manager|Doctor|Patient|Everyone|There|Us|Me|Them|Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Today|Tomorrow|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|Клиент|Коллеги|Друзья|Партнер|Партнёр|Все"
)
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_NOT_NAMES = rf"(?!(?:{_NOT_NAME_WORDS}|{_MONTHS})\b)"
# After a word naming a person ("customer", "recipient") a month is a first name: "April Greene".
_NOT_NAMES_AFTER_PERSON_ROLE = rf"(?!(?:{_NOT_NAME_WORDS})\b)"

PERSON = PatternRule(
    entity=E.PERSON,
    name="person_shapes",
    normalize=str,
    shapes=(
        Shape(re.compile(rf"(?<![\w.])({_RU_WORD}\s{_RU_INITIALS})"), 0.7),
        Shape(re.compile(rf"(?<![\w.])({_RU_INITIALS}\s?{_RU_WORD})"), 0.7),
        Shape(
            re.compile(
                rf"(?<![\w.])((?:{_SURNAME}\s)?{_RU_WORD}\s{_PATRONYMIC}(?:\s{_SURNAME})?)(?!\w)"
            ),
            0.7,
        ),
        Shape(
            re.compile(
                rf"(?<![\w.])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame)\.?\s+{_NOT_NAMES}"
                rf"({_EN_WORD}(?:\s{_EN_WORD}){{0,2}})"
            ),
            0.7,
            group=1,
        ),
        Shape(
            re.compile(
                rf"(?<![\w.])(?:г-ну?|г-жа|г-же|г-жи|господин[ау]?|госпож[аеи])\.?\s+"
                rf"({_RU_WORD}(?:\s{_RU_WORD}){{0,2}})"
            ),
            0.7,
            group=1,
        ),
        Shape(re.compile(rf"(?<![\w.])([A-Z]\.\s?(?:[A-Z]\.\s?)?{_EN_WORD})(?!\w)"), 0.55),
        # First name, middle initial, surname: "Marfa V. Eliseeva".
        Shape(re.compile(rf"(?<![\w.])({_EN_WORD}\s[A-Z]\.\s{_EN_WORD})(?!\w)"), 0.7),
        # A role word right before a capitalized pair: "patient Anna Lee", "signatory Ivan Orlov".
        Shape(
            re.compile(
                r"(?i:\b(?:patient|customer|client|employee|candidate|signatory|beneficiary|"
                r"account holder|holder|recipient|sender|applicant|tenant))[:,]?\s+"
                rf"{_NOT_NAMES_AFTER_PERSON_ROLE}({_EN_WORD},?\s{_EN_WORD})(?![\w\-])"
            ),
            0.65,
            group=1,
        ),
        Shape(
            re.compile(
                r"(?i:\b(?:contact for|full name|referral for|results for|feedback for|"
                r"contract for|ask for|transfer to|emergency contact for))[:,]?\s+"
                rf"{_NOT_NAMES}({_EN_WORD},?\s{_EN_WORD})(?![\w\-])"
            ),
            0.65,
            group=1,
        ),
        Shape(
            re.compile(
                r"(?<!\w)(?i:клиент|клиентка|пациент|пациентка|сотрудник|сотрудница|получатель|"
                r"получательница|отправитель|заявитель|заявительница|кандидат|кандидатка|"
                r"заемщик|заёмщик|подписант|собственник|владелец|арендатор|гражданин|гражданка)"
                rf"[:,]?\s+({_RU_WORD}\s{_RU_WORD})(?![\w\-])"
            ),
            0.65,
            group=1,
        ),
        Shape(
            re.compile(
                r"(?i:\b(?:reach|call|ask for|contact|text|email|message|ping))\s+"
                rf"{_NOT_NAMES}([A-Z][a-z]+)(?=\s+(?:on|at|via|by)\b|[.,;!])"
            ),
            0.55,
            group=1,
        ),
        # Latin transliterations of Russian names keep the Russian surname endings.
        Shape(
            re.compile(
                rf"(?<![\w.])({_EN_WORD}\s[A-Z][a-z]+(?:ov|ova|ev|eva|in|ina|yn|yna|sky|skaya|"
                r"skiy|skii|enko|ich|ovich|ovna|evna))(?![\w\-])"
            ),
            0.65,
        ),
        Shape(
            re.compile(
                r"(?:\b(?:Hi|Hello|Dear|Hey|Thanks|Thank you|Regards|Best regards|Kind regards|"
                r"Sincerely|Cheers|Best wishes|Best|Yours)[,!]?\s+"
                rf"){_NOT_NAMES}({_EN_WORD}(?:\s{_EN_WORD})?)(?![\w\-])"
            ),
            0.65,
            group=1,
        ),
        Shape(
            re.compile(
                r"(?:(?<!\w)(?:Здравствуйте|Добрый день|Добрый вечер|Доброе утро|Привет|"
                r"Уважаем(?:ый|ая|ые)|С уважением|Спасибо),\s+"
                rf"){_NOT_NAMES}({_RU_WORD}(?:\s{_RU_WORD}){{0,2}})(?![\w\-])"
            ),
            0.65,
            group=1,
        ),
    ),
)

_RU_STREET = (
    r"(?:(?:ул|пер|пр|просп|пр-т|пр-д|бул|б-р|наб|алл|ш|пл|туп|мкр|кв-л)\.\s?"
    r"|(?:улица|переулок|проспект|бульвар|набережная|аллея|шоссе|площадь|проезд|тупик|"
    r"микрорайон|линия|тракт)\s)"
)
_RU_STREET_NAME = (
    r"(?:\d+-?[а-я]{0,2}\s(?:лет\s)?|[А-ЯЁ]\.\s?)?[А-ЯЁ][\w\-]*(?:\s[А-ЯЁ][\w\-]*){0,2}"
    r"(?:\s\d+(?=,))?"
)
_RU_HOUSE = (
    r"(?:д\.\s?|дом\s)?\d+[а-яА-Я]?(?:/\d+[а-я]?)?(?:,?\s(?:корп|к|стр)\.\s?\d+[а-я]?(?:/\d+)?)?"
    r"(?:,?\s(?:кв|оф|офис|пом|помещение|комн|комната|ком)\.?\s?\d+[а-я]?|-\d+)?"
)
_RU_CITY = (
    r"(?:(?:г|с|п|д|х|ст|пос|пгт|рп|дер|ст-ца)\.\s?)?[А-ЯЁ][а-яё]+(?:-[а-яё]+)*"
    r"(?:-[А-ЯЁ][а-яё]+)?(?:\s[А-ЯЁ][а-яё\-]+)?"
    # the region or a note after the town: "с. Азов (Рост.)", "г. Кировск (Мурманская обл.)"
    r"(?:\s?\([А-ЯЁа-яё][а-яё]+\.?(?:\s[а-яё]+\.?)?\))?"
)
_RU_ADDRESS = (
    rf"(?<![\w.])(?:\d{{6}},\s?)?(?:{_RU_CITY},\s?)?{_RU_STREET}{_RU_STREET_NAME},\s?"
    rf"{_RU_HOUSE}(?:,\s?г\.\s?[А-ЯЁ][а-яё\-]+(?:\s[А-ЯЁ][а-яё\-]+)?)?(?:,\s?\d{{6}})?(?![\w])"
)

_EN_SUFFIX = (
    r"(?:Alley|Avenue|Ave|Bend|Boulevard|Blvd|Bridge|Brook|Brooks|Burg|Burgs|Bypass|Camp|"
    r"Canyon|Cape|Causeway|Center|Centers|Circle|Circles|Cliff|Cliffs|Close|Club|Common|"
    r"Commons|Corner|Corners|Course|Court|Courts|Ct|Cove|Coves|Creek|Crescent|Crest|Crossing|"
    r"Crossroad|Curve|Dale|Dam|Divide|Drive|Drives|Dr|Estate|Estates|Expressway|Extension|"
    r"Extensions|Fall|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|"
    r"Fork|Forks|Fort|Freeway|Garden|Gardens|Gateway|Glen|Glens|Green|Greens|Grove|Groves|"
    r"Harbor|Harbors|Haven|Heights|Highway|Hwy|Hill|Hills|Hollow|Inlet|Island|Islands|Isle|"
    r"Junction|Junctions|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Lane|Ln|Light|Lights|"
    r"Loaf|Lock|Locks|Lodge|Loop|Mall|Manor|Manors|Meadow|Meadows|Mews|Mill|Mills|Mission|"
    r"Motorway|Mount|Mountain|Mountains|Neck|Orchard|Oval|Overpass|Park|Parks|Parkway|"
    r"Parkways|Pass|Passage|Path|Pike|Pine|Pines|Place|Pl|Plain|Plains|Plaza|Point|Points|"
    r"Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|Ridges|River|Road|Roads|"
    r"Rd|Route|Row|Rue|Run|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|Spur|Spurs|Square|"
    r"Squares|Station|Stravenue|Stream|Street|Streets|St|Summit|Terrace|Throughway|Trace|"
    r"Track|Trafficway|Trail|Trailer|Tunnel|Turnpike|Underpass|Union|Unions|Valley|Valleys|"
    r"Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Walk|Walks|Wall|Way|Ways|Well|"
    r"Wells|Wharf|Yard|Yards)\.?"
)
_EN_UNIT = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Studio|Room|#)\s?[\w\-]+"
_EN_CITY = r"[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}"
_US_STATE_ZIP = r"[A-Z]{2}\s\d{5}(?:-\d{4})?"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
# The town line follows the street after a comma or on the next line (street words are
# joined by spaces only, so a street suffix such as "Lake" on the next line is the town's).
_EN_NEXT = r"(?:,\s|,?\n[ \t]*)"
_EN_ADDRESS = (
    rf"(?<![\w])(?:{_EN_UNIT},?\s)?\d{{1,5}}[A-Za-z]? (?:[A-Z][a-z]+ ){{1,3}}{_EN_SUFFIX}"
    rf"(?![\w])(?:,?\s{_EN_UNIT})?"
    rf"(?:{_EN_NEXT}{_EN_CITY}(?:,?\s(?:{_US_STATE_ZIP}|{_UK_POSTCODE}))?|,\s{_UK_POSTCODE})?"
    rf"(?![\w])"
)
# US military mail: "PSC 1335, Box 7532, APO AA 84812", "USNS Harris, FPO AP 12345".
_US_MILITARY_ADDRESS = (
    r"(?<![\w])(?:(?:PSC|CMR|Unit)\s\d{1,5},?\s+Box\s\d{1,5}|(?:USNS|USS|USCGC)\s[A-Z][a-z]+)"
    rf"{_EN_NEXT}?\s?(?:APO|FPO|DPO)\s(?:AA|AE|AP)\s\d{{5}}(?![\w])"
)

# "Flat 3, Jackson Green, Lesleyhaven, L3D 1GN": a unit, a street without a house number.
_EN_UNIT_ADDRESS = (
    rf"(?<![\w])(?:Flat|Studio|Apartment|Apt\.?|Suite|Unit)\s[\w\-]+,\s(?:[A-Z][a-z]+\s){{1,3}}"
    rf"{_EN_SUFFIX}(?![\w])(?:,\s{_EN_CITY})?(?:,?\s(?:{_US_STATE_ZIP}|{_UK_POSTCODE}))?(?![\w])"
)

ADDRESS = PatternRule(
    entity=E.LOCATION,
    name="address_shapes",
    normalize=str,
    # A street type or suffix plus a house number is stronger evidence than a NER guess
    # about one of its words ("ул. Свердлова" is not a person).
    shapes=(
        Shape(re.compile(_RU_ADDRESS), 0.9),
        Shape(re.compile(_EN_ADDRESS), 0.9),
        Shape(re.compile(_EN_UNIT_ADDRESS), 0.9),
        Shape(re.compile(_US_MILITARY_ADDRESS), 0.9),
    ),
)

RULES: tuple[PatternRule, ...] = (PERSON, ADDRESS)
