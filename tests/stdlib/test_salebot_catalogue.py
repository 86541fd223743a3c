"""Every example of Salebot's calculator documentation that has a definite result, run as
written (or as close as the functions part of botlang allows) and checked against the result
the documentation gives or describes. Each case names its page.

Pages are docs.salebot.pro paths (see the PAGES table). Examples that need ``#{...}`` inside
calculator code, or an unquoted one-word value in a subscript assignment, are written here
with the plain variable or a quoted value: those two constructs are the language's part.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from botlang import ScriptError
from botlang.core.compiler import compile_template

from .support import NOW, context, error_of, run
from .test_variables import FakeClients

CALC = "https://docs.salebot.pro/chatbots/peremennye-i-funkcii/kalkulyator/"
PAGES = {
    "CALC": CALC[:-1],
    "MATH": CALC + "matematicheskie-funkcii",
    "STR": CALC + "dlya-raboty-so-strokami",
    "REGEX": CALC + "dlya-raboty-s-regulyarnymi-vyrazheniyami",
    "DATE": CALC + "dlya-raboty-s-datami-i-vremenem",
    "OLD_DATE": "https://docs.salebot.pro/peremennye-1/rabota-s-datami-i-vremenem",
    "EN_DATE": "https://docs.salebot.ai/variables/working-with-dates-and-time",
    "IF": CALC + "uslovnyi-operator-if",
    "ARR": CALC + "massivy-i-slovari/dlya-raboty-s-massivami",
    "DICT": CALC + "massivy-i-slovari/dlya-raboty-so-slovaryami",
    "VFUN": CALC + "dlya-raboty-s-peremennymi",
    "LISTS": CALC + "dlya-raboty-so-spiskami",
    "OLD_CALC": "https://docs.salebot.pro/peremennye-1/kalkulyator",
}


@dataclass(frozen=True)
class Example:
    """A documented script and the variables it must leave (a subset of them)."""

    page: str
    source: str
    expected: dict[str, Any]
    variables: dict[str, Any] = field(default_factory=dict)
    now: datetime = NOW

    def __post_init__(self) -> None:
        assert self.page in PAGES, self.page


def _id(example: Example) -> str:
    first = example.source.strip().splitlines()[-1]
    return f"{example.page}: {first[:60]}"


# The calculator field of the math page's copy-paste example (X, Y, A, C, L and text).
MATH_SCRIPT = """\
/*зададим универсальные числа для вычислений*/
X=1.275
Y=5.822
A=-2.352
C=5
L=0.5
text="Hello, World!"
/*вычисление*/
a1=abs(A)
b1=ceil(X)
c1=customizable_round_multiply(X,Y,2)
d1=customizable_round_division(X,Y,3)
e1=exp(4)
f1=fac(C)
g1=floor(X)
h1=int(X)
i1=is_float(text)
j1=is_int(text)
k1=log(C)
l1=max(X,Y,C)
m1=md5(text)
n1=min(X,Y,C)
o1=pow(C,C)
o2=pyt(5,2)
r1=round(Y)
s1=sha1(text)
t1=sha256(text)
u1=sqrt(C)
v1=sin(X)
w1=cos(X)
x1=tan(X)
y1=asin(L)
a2=acos(L)
b2=atan(X)
c2=atan2(X,Y)
"""

STRINGS_SCRIPT = """\
/*Разбираем substring()*/
text = 'тескт для обрезки'
a=substring(text, 4)
a1=substring(text, -4)
b=substring(text, 4, 6)
b1=substring(text, 0, 6)
c=substring(text, 0, -4)
d=substring(text, 4, -4)
/*работаем с len()*/
la=len(text)
lb=len("как прекрасен этот мир!")
/*делим строку на части*/
elements = splitter('s, W, q', ',')
text2='text1:text2:text3:text4:text5'
texts = splitter(text2, ':',2)
/*обработка номера телефона*/
phone=normalizePhone("+7978-999-99-99")
/*замена подстроки в строке*/
r=replace("wwww2222ww", "w", "e", 1)
"""

BUTTONS = (
    '[{"text":"Футболки","price":100},{"text":"Шорты","price":150},'
    '{"text":"Носки","price":20},{"text":"Кепки","price":50}]'
)
RAINBOW = (
    '{"каждый":"красный","охотник":"оранжевый","желает":"желтый","знать":"зеленый",'
    '"где":["бирюзовый","светло-голубой", "темно-голубой"],"сидит":"синий","фазан":"фиолетовый"}'
)
FRUITS = (
    '{"A1":"апельсин","A2":"абрикос","A3":"мандарин","A4":"яблоко","A5":"груша","A6":"киви",'
    '"A7":"банан","A8":"персик"}'
)

EXAMPLES = [
    # ------------------------------------------------------------------ the calculator page
    Example("CALC", "f = log(E)", {"f": 1}),
    Example("OLD_CALC", "p = PI", {"p": math.pi}),
    Example("CALC", "a = 7 % 3\nb = 2 ^ 3\nc = 2 ** 3\nd = 10 / 4", {"a": 1, "b": 8, "c": 8}),
    # ------------------------------------------------------------------ math
    Example("MATH", "x = abs(-256)", {"x": 256}),
    Example("MATH", "x = ceil(25.66)", {"x": 26}),
    Example("MATH", "x = exp(2)", {"x": 7.38905609893065}),
    Example("MATH", "f = fac(5)", {"f": 120}),
    Example("MATH", "x = floor(25.66)", {"x": 25}),
    Example("MATH", "x = int(1.8)", {"x": 1}),
    Example("MATH", 'x = is_int("5")\ny = is_int("текст")', {"x": True, "y": False}),
    Example("MATH", "f = log(100, 10)", {"f": 2}),
    Example("MATH", "x = max(4, 2, 9, 6)\ny = min(4, 2, 9, 6)", {"x": 9, "y": 2}),
    Example("MATH", 'hash = md5("Hello world")', {"hash": "3e25960a79dbc69b674cd4ec67a72c62"}),
    Example("MATH", "x = pow(5, 2)", {"x": 25}),
    Example("MATH", "x = pyt(5, 2)", {"x": 5.385164807134504}),
    Example("MATH", "x = round(1.8)\ny = round(1.8888888, 2)", {"x": 2, "y": 1.89}),
    Example(
        "MATH",
        'hash = sha1("Hello world")',
        {"hash": "7b502c3a1f48c8609ae212cdfb639dee39673f5e"},
    ),
    Example(
        "MATH",
        'hash = sha256("Hello world")',
        {"hash": "64ec88ca00b268e5ba1a35678a1b5316d212f4f366b2477232534a8aeca37f3c"},
    ),
    Example("MATH", "x = sqrt(25)", {"x": 5}),
    Example(
        "MATH",
        "x = distance(52.2296756, 21.0122287, 52.406374, 16.9251681)",
        {"x": 278.5459739738798},
    ),
    Example(
        "MATH",
        MATH_SCRIPT,
        {
            "a1": 2.352,
            "b1": 2,
            "c1": 7.42,
            "d1": 0.219,
            "e1": 54.598150033144236,
            "f1": 120,
            "g1": 1,
            "h1": 1,
            "i1": False,
            "j1": False,
            "k1": 1.6094379124341003,
            "l1": 5.822,
            "m1": "65a8e27d8879283831b664bd8b7f0ad4",
            "n1": 1.275,
            "o1": 3125,
            "o2": 5.385164807134504,
            "r1": 6,
            "s1": "0a0a9f2a6772942557ab5355d76af442f8f65e01",
            "t1": "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f",
            "u1": 2.23606797749979,
            "v1": 0.9565703150409859,
            "w1": 0.29150168504210905,
            "x1": 3.2815258508807728,
            "y1": 0.5235987755982989,
            "a2": 1.0471975511965979,
            "b2": 0.9056936403254024,
            "c2": 0.2155933204259533,
        },
    ),
    # ------------------------------------------------------------------ strings
    Example(
        "STR",
        STRINGS_SCRIPT,
        {
            "a": "т для обрезки",
            "a1": "езки",
            "b": "т ",
            "b1": "тескт ",
            "c": "тескт для обр",
            "d": "т для обр",
            "la": 17,
            "lb": 23,
            "elements": ["s", " W", " q"],
            "texts": ["text1", "text2:text3:text4:text5"],
            "phone": "79789999999",
            "r": "ewww2222ww",
        },
    ),
    Example(
        "STR",
        'фио = "петров аНАтолий ИваноВич"\nфио = title(фио)',
        {"фио": "Петров Анатолий Иванович"},
    ),
    Example(
        "STR",
        'a = urlencode("Ivan Ivanovich")\nb = urlencode("Anna&Maria")\n'
        'c = urldecode("Ivan%20Ivanovich")',
        {"a": "Ivan%20Ivanovich", "b": "Anna%26Maria", "c": "Ivan Ivanovich"},
    ),
    Example("STR", 'x = contains("Привет, Мир", "мир", False)', {"x": True}),
    Example("STR", 'x = contains("Привет, Мир", "мир")', {"x": False}),
    Example(
        "STR",
        "x = tg_escape('_*[]()~`>#+-=|{}.!')",
        {"x": "\\_\\*\\[\\]\\(\\)\\~\\`\\>\\#\\+\\-\\=\\|\\{\\}\\.\\!"},
    ),
    Example("STR", "x = tg_escape('Цена: 1.500 руб!')", {"x": "Цена: 1\\.500 руб\\!"}),
    # ------------------------------------------------------------------ regular expressions
    Example(
        "REGEX",
        "x = findall('.ru\\/(.+)\\/', 'https://payform.ru/ab252acn/', 0)",
        {"x": "ab252acn"},
    ),
    Example(
        "REGEX",
        'ответ = if(similar(загадка, question) == True , "супер!", "Неет!")',
        {"ответ": "супер!"},
        {"загадка": "самовар", "question": "самавар"},
    ),
    # ------------------------------------------------------------------ dates and times
    Example(
        "DATE",
        "kol = 2\ndata = '29.02.2020'\nx = addYear(data, kol)\ny = addYear('31.12.2021', -1*kol)",
        {"x": "28.02.2022", "y": "31.12.2019"},
    ),
    Example(
        "DATE",
        "kol = 10\ndata = '30.04.2019'\nx = addMonth(data, kol)\n"
        "y = addMonth('31.12.2020', -1*kol)",
        {"x": "29.02.2020", "y": "29.02.2020"},
    ),
    Example("DATE", "x = addDays('20.08.2019', -99)", {"x": "13.05.2019"}),
    Example("DATE", "x = addMinutes('20:08', -30)", {"x": "19:38"}),
    Example(
        "DATE",
        "x = addDays(current_date, 20)\ny = addMinutes(current_time, 20)",
        {"x": "26.10.2021", "y": "12:50"},
        {"current_date": "06.10.2021", "current_time": "12:30"},
    ),
    Example("OLD_DATE", "x = '20.08.2019' -99\ny = '20:08' -30", {"x": "13.05.2019", "y": "19:38"}),
    Example(
        "EN_DATE", "x = '12.10.2021' + 3\ny = '15:00' + 120", {"x": "15.10.2021", "y": "17:00"}
    ),
    Example("DATE", "x = '11.12.2021' - '8.12.2021'\ny = '11:12' - '3:45'", {"x": 3, "y": 447}),
    Example(
        "DATE",
        "a = '01.09.2020' < '11.10.2020'\nb = '11.10.2020' >= current_date\n"
        "c = current_time >= '18:00'\nd = current_time <= '21:00'",
        {"a": True, "b": False, "c": False, "d": True},
        {"current_date": "06.10.2021", "current_time": "12:30"},
    ),
    Example(
        "DATE",
        "a = time_interval('10:00','19:00')\nb = time_interval('19:00','07:00')\n"
        "c = time_interval('18.10.2021 10:00','25.10.2021 23:59:59')",
        {"a": True, "b": False, "c": True},
        now=datetime(2021, 10, 20, 12, 30),
    ),
    Example(
        "DATE",
        "a = time_interval('10:00','19:00')\nb = time_interval('19:00','07:00')\n"
        "c = time_interval('18.10.2021 10:00','25.10.2021 23:59:59')",
        {"a": False, "b": True, "c": True},
        now=datetime(2021, 10, 25, 23, 59, 59),
    ),
    Example(
        "DATE",
        "c = time_interval('18.10.2021 10:00','25.10.2021 23:59:59')",
        {"c": False},
        now=datetime(2021, 10, 26, 0, 0, 0),
    ),
    Example(
        "DATE",
        "ответ = if(time_interval('10:00','19:00'), \"Вам скоро ответит менеджер\", "
        '"Сейчас менеджер не на месте, вам ответят в рабочее время с 10:00")',
        {"ответ": "Вам скоро ответит менеджер"},
    ),
    Example(
        "DATE",
        "ответ = if(time_interval('10:00','19:00'), \"Вам скоро ответит менеджер\", "
        '"Сейчас менеджер не на месте, вам ответят в рабочее время с 10:00")',
        {"ответ": "Сейчас менеджер не на месте, вам ответят в рабочее время с 10:00"},
        now=datetime(2021, 10, 6, 21, 5),
    ),
    Example(
        "DATE",
        'timestampD = convert_datetime("10.10.2021 12:00", "%d.%m.%Y %H:%M", "%s")\n'
        "timestamp0 = timestamp\ntimeD = int(timestampD)\ntime0 = int(timestamp0)\n"
        "time = timeD - time0\nсуток = time/86400\nдней = int(суток)\nc = дней*86400\n"
        "d = time - c\ne = d/3600\nчасов = int(e)\ng = часов*3600\nh = d - g\ni = h/60\n"
        "минут = int(i)\nk = минут*60\nсекунд = h - k",
        {"дней": 3, "часов": 23, "минут": 29, "секунд": 30},
        # 10.10.2021 12:00 in the run's zone, minus 3 days 23:29:30
        {"timestamp": int(datetime(2021, 10, 6, 12, 30, 30, tzinfo=UTC).timestamp())},
        now=datetime(2021, 10, 6, 12, 30, tzinfo=UTC),
    ),
    Example(
        "DATE",
        'x = convert_datetime("2011-11-03", "%Y-%m-%d", "%Y/%m/%d")',
        {"x": "2011/11/03"},
    ),
    Example(
        "DATE",
        'x = convert_datetime("06.01.2025 19:26:35.123456", "%d.%m.%Y %H:%M:%S.%f", "%s.%f")',
        {"x": "1736166395.123456"},
        # The documented result is that moment's timestamp in a UTC+7 project.
        now=datetime(2025, 1, 6, 12, 0, tzinfo=timezone(timedelta(hours=7))),
    ),
    Example(
        "DATE",
        'x = convert_datetime("06.01.2025 11:45", "%d.%m.%Y %H:%M", "%s.%f")',
        {"x": "1736153100.000000"},  # 11:45 in Moscow (the page's 1736144700 fits no zone)
        now=datetime(2025, 1, 6, 12, 0, tzinfo=timezone(timedelta(hours=3))),
    ),
    Example(
        "DATE",
        'x = convert_datetime(concat(current_date, " ", current_time), "%d.%m.%Y %H:%M", "%s")',
        {"x": str(int(datetime(2021, 10, 6, 12, 30, tzinfo=UTC).timestamp()))},
        {"current_date": "06.10.2021", "current_time": "12:30"},
        now=datetime(2021, 10, 6, 12, 30, tzinfo=UTC),
    ),
    Example("DATE", 'x = get_datetime("%A")', {"x": "Среда"}),
    Example(
        "DATE",
        'a = get_datetime("%a")\nb = get_datetime("%B")\nc = get_datetime("%b")\n'
        'd = get_datetime("%w %d %m %y %Y %H %M %S %j %%")',
        {"a": "Ср", "b": "октября", "c": "окт", "d": "3 06 10 21 2021 12 30 00 279 %"},
    ),
    Example(
        "DATE",
        "a = current_date_rus()\nb = current_date_rus(2)\nc = current_date_rus(-2)",
        {"a": "3 апреля", "b": "5 апреля", "c": "1 апреля"},
        now=datetime(2022, 4, 3, 9, 0),
    ),
    Example(
        "DATE",
        "a = date_rus('19.07.2022')\nb = date_rus('19.07.2022',2)\nc = date_rus('19.07.2022',-2)",
        {"a": "19 июля", "b": "21 июля", "c": "17 июля"},
    ),
    Example("DATE", "напоминание = birthdate('28.04.1994')", {"напоминание": "28.04.2022"}),
    Example(
        "DATE",
        "напоминание = birthdate('28.04.1994')",
        {"напоминание": "28.04.2022"},
        now=datetime(2022, 4, 28, 8, 0),
    ),
    Example(
        "DATE",
        "a = weekday_date(4)\nb = weekday_date(4, True)\nc = weekday_date(4, False)",
        {"a": "20.02.2020", "b": "13.02.2020", "c": "20.02.2020"},
        now=datetime(2020, 2, 13, 10, 0),  # a Thursday, the day the client registered
    ),
    Example(
        "DATE",
        "a = weekday_date(4, current_time < '13:00')",
        {"a": "13.02.2020"},
        {"current_time": "10:00"},
        now=datetime(2020, 2, 13, 10, 0),
    ),
    Example(
        "DATE",
        "a = weekday_date(4, current_time < '13:00')",
        {"a": "20.02.2020"},
        {"current_time": "14:00"},
        now=datetime(2020, 2, 13, 14, 0),
    ),
    Example("DATE", "t=month_date(1)", {"t": "01.05.2022"}, now=datetime(2022, 4, 5, 12, 0)),
    Example(
        "DATE",
        "a = month_date(31)\nb = month_date(5)\nc = month_date(5, True)",
        {"a": "30.04.2022", "b": "05.05.2022", "c": "05.04.2022"},
        now=datetime(2022, 4, 5, 12, 0),
    ),
    Example(
        "DATE",
        "r = current_time >= '9:00' AND current_time <= '18:00' AND weekday != 6 AND weekday != 7",
        {"r": True},
        {"current_time": "12:30", "weekday": 3},
    ),
    Example(
        "DATE",
        "r = current_time < '9:00' OR current_time > '18:00' OR weekday == 6 OR weekday == 7",
        {"r": True},
        {"current_time": "12:30", "weekday": 6},
    ),
    # ------------------------------------------------------------------ if
    Example("IF", "ДНИМОЛЧАНИЯ_2 = if(ДНИМОЛЧАНИЯ_2 == 1, 1, 0)", {"ДНИМОЛЧАНИЯ_2": 0}),
    Example(
        "IF",
        "ДНИМОЛЧАНИЯ_2 = if(ДНИМОЛЧАНИЯ_2 == 1, 1, 0)",
        {"ДНИМОЛЧАНИЯ_2": 1},
        {"ДНИМОЛЧАНИЯ_2": 1},
    ),
    Example(
        "IF",
        "ИмяКлиента = if(ИмяКлиента == 1, Р1, if(ИмяКлиента == 2, Р2, if(ИмяКлиента == 3, Р3, 7)))",
        {"ИмяКлиента": "второй"},
        {"ИмяКлиента": 2, "Р1": "первый", "Р2": "второй", "Р3": "третий"},
    ),
    Example(
        "IF",
        "ИмяКлиента = if(ИмяКлиента == 1, Р1, if(ИмяКлиента == 2, Р2, if(ИмяКлиента == 3, Р3, 7)))",
        {"ИмяКлиента": 7},
        {"ИмяКлиента": 9, "Р1": "первый", "Р2": "второй", "Р3": "третий"},
    ),
    Example(
        "IF",
        "Сумма_Заказа = round(if(Количество >=100, if(Количество >=200, if(Количество >=300, "
        "if(Количество >=400, if(Количество >=500, if(Количество >=1000, if(Количество >=2000, "
        "if(Количество >=3000, if(Количество >=5000, 25*Количество, 30*Количество), "
        "35*Количество), 40*Количество), 45*Количество), 50*Количество), 55*Количество), "
        '60*Количество), 65*Количество), "Не могу посчитать... Вы ошиблись где-то при '
        'оформлении заказа. Попробуйте еще раз с самого начала.") * 100) / 100',
        {"Сумма_Заказа": 16500},
        {"Количество": 300},
    ),
    # ------------------------------------------------------------------ arrays
    Example(
        "ARR",
        'arrayI = [1, "2", 3, 4, 5]\nk=arrayI[3]\narrayV = [[1, "2", 4, 5], "2", 3, 4, 5]\n'
        'v=arrayV[0][1]\narray = [1, "2", 3, 4, 5]\nlast = array[-1]',
        {"k": 4, "v": "2", "last": 5},
    ),
    Example(
        "ARR",
        "array = [1, \"2\", 3, 4, 5]\narray[2] = 888\narray[3] = int('888')",
        {"array": [1, "2", 888, 888, 5]},
    ),
    Example(
        "ARR",
        "s = [\"Вася\", \"Петя\", \"Лена\"]\nq = if(in_array(s, 'Аня'), 'Найдено', 'Еще строка')",
        {"q": "Еще строка"},
    ),
    Example(
        "ARR",
        's = ["Вася", "Петя", "Лена"]\n'
        "q = if(arr_len(s) > 5, 'Группа укомплектована', 'Присоединяйтесь в наши ряды!')",
        {"q": "Присоединяйтесь в наши ряды!"},
    ),
    Example(
        "ARR", "n = arr_len()\nm = arr_len('текст')\nk = arr_len(5)", {"n": 0, "m": -1, "k": -1}
    ),
    Example(
        "ARR",
        's = ["Вася", "Петя", "Лена"]\nq = append(s, \'Никита\')',
        {"q": ["Вася", "Петя", "Лена", "Никита"], "s": ["Вася", "Петя", "Лена"]},
    ),
    Example(
        "ARR",
        's = ["Вася", "Петя", "Лена"]\nq = insert(s, 1, \'Никита\')',
        {"q": ["Вася", "Никита", "Петя", "Лена"]},
    ),
    Example(
        "ARR",
        's = ["Вася", "Петя", "Лена"]\nt = {"имя": "Никита", "возраст": 7}\n'
        "q = insert(s, 1, t, True)\nw = append(s, [1, 2], True)",
        {
            "q": ["Вася", {"имя": "Никита", "возраст": 7}, "Петя", "Лена"],
            "w": ["Вася", "Петя", "Лена", [1, 2]],
        },
    ),
    Example(
        "ARR",
        'array = ["1",2, 3, "4"]\ndel array[\'1\']\narray1 = ["1",2, 3, "4"]\narray1=del(array1,0)',
        {"array": ["1", 3, "4"], "array1": [2, 3, "4"]},
    ),
    Example(
        "ARR",
        'array = ["1",2, 3, "4"]\narray=remove(array, \'4\')\n'
        'array1 = ["1",2, 3, "4"]\narray1=remove(array1, 2)',
        {"array": ["1", 2, 3], "array1": ["1", 3, "4"]},
    ),
    Example(
        "ARR",
        'array = ["1",2, 3, "4"]\npoisk1=index(array,"1")\npoisk2=index(array,5)',
        {"poisk1": 0, "poisk2": -1},
    ),
    Example(
        "ARR",
        'Massive1 = [1, 2, 3, "a", "b", "c"]\ntext = massive_to_text(Massive1, \'заголовок\', 1)',
        {"text": "заголовок\n1) 1;\n2) 2;\n3) 3;\n4) a;\n5) b;\n6) c;"},
    ),
    Example(
        "ARR",
        "s1 = [1, 2, 3]\ns2 = [2, 3]\ns3 = except_arr(s1, s2)\ns4 = cross_arr(s1, s2)",
        {"s3": [1], "s4": [2, 3]},
    ),
    Example(
        "ARR",
        'mas1 = ["не", "ожидал,", "что", "всё", "так", "просто.", "спасибо"]\n'
        'mas2 = ["все", "спасибо"]\nmas3 = cross_arr(mas1, mas2)',
        {"mas3": ["спасибо"]},
    ),
    Example(
        "ARR",
        "a = [1,2,3,4]\nb = [5,6,7]\nsum = a + b\nanswer = replace(sum, '][', ',')",
        {"sum": [1, 2, 3, 4, 5, 6, 7], "answer": "[1, 2, 3, 4, 5, 6, 7]"},
    ),
    Example("ARR", "mas = [1,2,3,4]\nresult = sum_array(mas)", {"result": 10}),
    Example("ARR", "mas = '[1,2,3,\"-4\"]'\nresult = sum_array(mas)", {"result": 2}),
    Example(
        "ARR",
        'list = ["Футболки", "Шорты", "Носки", "Кепки"]\nres = array_slice(list, 1)\n'
        "res2 = array_slice(list, 0, 2)",
        {"res": ["Шорты", "Носки", "Кепки"], "res2": ["Футболки", "Шорты"]},
    ),
    Example(
        "ARR",
        'array1 = ["one", "two", "three"]\nans1 = unpack_list(array1)',
        {"var1": "one", "var2": "two", "var3": "three"},
    ),
    Example(
        "ARR",
        'array2 = ["one", "two", "three"]\nvar_name = \'custom\'\n'
        "ans2 = unpack_list(array2, var_name)",
        {"custom1": "one", "custom2": "two", "custom3": "three"},
    ),
    Example(
        "ARR",
        "arr = [1, 2, 5, 1, 5, 3]\nnew_arr = remove_duplicates(arr)",
        {"new_arr": [1, 2, 5, 3]},
    ),
    Example(
        "ARR",
        'a = sort([3, 1, 2], True)\nd = sort({"b": 1, "c": 0, "a": 2})\n'
        'e = sort_by_value({"b": 1, "c": 0, "a": 2})\nf = sort_by_value({"b": 1, "a": 2}, True)',
        {
            "a": [3, 2, 1],
            "d": {"a": 2, "b": 1, "c": 0},
            "e": {"c": 0, "b": 1, "a": 2},
            "f": {"a": 2, "b": 1},
        },
    ),
    Example(
        "ARR",
        f"list = {BUTTONS}\n"
        'res = tools_make_button_str_checker(list, "text", "2", "1")\n'
        "numbered_list = res['numbered_list']\nbuttons = res['buttons']\nchecker = res['checker']\n"
        "res_check = tools_check_user_input(list, user_input, 'text', 'price')",
        {
            "numbered_list": "1. Футболки\n2. Шорты\n3. Носки\n4. Кепки\n",
            "buttons": [
                {"type": "inline", "text": "Футболки", "line": 0, "index_in_line": 0},
                {"type": "inline", "text": "Шорты", "line": 0, "index_in_line": 1},
                {"type": "inline", "text": "Носки", "line": 1, "index_in_line": 0},
                {"type": "inline", "text": "Кепки", "line": 1, "index_in_line": 1},
            ],
            "checker": "Футболки;1;Шорты;2;Носки;3;Кепки;4;",
            "res_check": 50,
        },
        {"user_input": "Кепки"},
    ),
    # ------------------------------------------------------------------ dicts
    Example("DICT", 'dicts = {"a": "11", "d": "privet"}\naa = dicts["a"]', {"aa": "11"}),
    Example(
        "DICT",
        f"v={FRUITS}\nkey= dict_keys_to_array(v)\nvalue= dict_values_to_array(v)",
        {
            "key": ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"],
            "value": [
                "апельсин",
                "абрикос",
                "мандарин",
                "яблоко",
                "груша",
                "киви",
                "банан",
                "персик",
            ],
        },
    ),
    Example(
        "DICT",
        'data = [{"Товар": "Товар№1", "Цена": 1500}, {"Товар": "Товар№2", "Цена": 6000}]\n'
        'key = "Товар"\nresult = get_values_by_key(data, key)',
        {"result": ["Товар№1", "Товар№2"]},
    ),
    Example(
        "DICT",
        "dicts = {\"a\": \"11\", \"d\": \"privet\"}\ndicts['d'] = 'AAAAA'\ndicts['m'] = 'new'\n"
        "dicts['a'] = int('555')",
        {"dicts": {"a": 555, "d": "AAAAA", "m": "new"}},
    ),
    Example(
        "DICT",
        's = {"1": 123, "2": 234, "q": {"w": "e"}}\n'
        "q = if(exist_key(s, 'q'), 'Найдено', 'Еще строка')\nk = key_index(s, 'q')",
        {"q": "Найдено", "k": 2},
    ),
    Example("DICT", f"радуга = {RAINBOW}\ndlina=arr_len(радуга)", {"dlina": 7}),
    Example(
        "DICT",
        'd = {"a": 1, "b": 2}\nd = del(d, \'a\')',
        {"d": {"b": 2}},
    ),
    Example(
        "DICT",
        'dict = {"[id146467928|Дмитрий]":"6","[id145255525|Матвей]":"20"}\n'
        "r = humanize(dict, ': ')",
        {"r": "[id146467928|Дмитрий]: 6\n[id145255525|Матвей]: 20"},
    ),
    # ------------------------------------------------------------------ lists page
    Example("LISTS", "n = count_occurrences([1, 2, 1, '1', 3], 1)", {"n": 3}),
]


@pytest.mark.parametrize("example", EXAMPLES, ids=_id)
def test_documented_example(example: Example) -> None:
    result = run(example.source, example.variables, clock=lambda: example.now)
    for name, value in example.expected.items():
        assert name in result, f"{name} not set ({PAGES[example.page]})"
        assert result[name] == value, PAGES[example.page]


def test_random_stays_in_its_bounds() -> None:
    """MATH: random(-10,10)."""
    for seed in range(50):
        value = run("x = random(-10,10)", rng=random.Random(seed))["x"]
        assert -10 <= value <= 10 and type(value) is int


def test_select_random_from_list_picks_an_item() -> None:
    """STR: both documented examples (numbers, then greetings)."""
    numbers = "число_1 = 123\nчисло_2 = 345\nчисло_3 = 567\nчисло_4 = 789\nчисло_5 = 8764\n"
    numbers += "my_array = [число_1, число_2, число_3, число_4, число_5]\n"
    numbers += "result = select_random_from_list(my_array)"
    picked = {run(numbers, rng=random.Random(seed))["result"] for seed in range(40)}
    assert picked == {123, 345, 567, 789, 8764}
    greetings = ["Добрый день!", "Здравствуйте!", "Привет!", "Хай", "Салют"]
    source = f"my_array = {greetings!r}\nresult = select_random_from_list(my_array)"
    assert run(source)["result"] in greetings


def test_shuffle_massive_keeps_the_items() -> None:
    """ARR: Massive2 = shuffle_massive(Massive1)."""
    source = 'Massive1 = [1, 2, 3, "a", "b", "c"]\nMassive2 = shuffle_massive(Massive1)'
    orders = set()
    for seed in range(20):
        result = run(source, rng=random.Random(seed))
        assert sorted(map(str, result["Massive2"])) == ["1", "2", "3", "a", "b", "c"]
        assert result["Massive1"] == [1, 2, 3, "a", "b", "c"]
        orders.add(tuple(result["Massive2"]))
    assert len(orders) > 1


def test_sum_array_refuses_letters_with_the_documented_message() -> None:
    """ARR: mas = [1,2,3,"a"] gives "array has unsupported elements"."""
    error = error_of('sum_array([1,2,3,"a"])')
    assert "array has unsupported elements" in error.message


def test_other_clients_variables() -> None:
    """VFUN: get_client_var, get_client_vars, set_client_var, set_client_vars."""
    clients = FakeClients()
    clients.vars["64732310"] = {"urok": 5, "level": 2}
    clients.vars["1136"] = {}
    source = "\n".join(
        [
            "probno=get_client_var(64732310, 'urok')",
            'names=["level","urok"]',
            "probno2=get_client_vars(64732310, names)",
            'set_client_var(64732310, "novoe", "да")',
            'set_client_vars(1136, \'{"var_name1": "var_value1", "var_name2": "var_value2"}\')',
        ]
    )
    result = run(source, clients=clients)
    assert result["probno"] == 5
    assert result["probno2"] == {"level": 2, "urok": 5}
    assert clients.vars["64732310"]["novoe"] == "да"
    assert clients.vars["1136"] == {"var_name1": "var_value1", "var_name2": "var_value2"}


def test_math_in_a_message() -> None:
    """MATH: "#{2+2}, #{random (0,100)}" and the message block of the copy-paste example."""
    template = compile_template("#{2+2} #{floor(#{Y})} #{int(#{Y})} #{log(E)}")
    text = template.render({"Y": 5.822}, context=context())
    assert text == "4 5 5 1"
    value = int(compile_template("#{random (0,100)}").render({}, context=context()))
    assert 0 <= value <= 100


def test_unknown_weekday_is_an_error() -> None:
    """DATE: weekday_date takes a weekday from 1 to 7."""
    with pytest.raises(ScriptError):
        run("x = weekday_date(0)")
