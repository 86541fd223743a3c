"""Mango Office result codes: the whole table, and how to read a code that is not in it.

Codes are grouped in classes: 1xxx success and normal call ends, 2xxx billing limits,
3xxx bad requests, 4xxx not executable, 5xxx server errors, 6xxx fax. A code that is not in
the table is read by its class: the code itself, then its subclass (last digit zeroed,
2219 → 2210), then its class (last two zeroed, 1090 → 1000), then the top class (last three
zeroed). :func:`describe` applies that rule.
"""

from __future__ import annotations

from dataclasses import dataclass

SUCCESS = 1000
CALL_ENDED_NORMALLY = 1100
NO_ANSWER = 1111
BUSY = 1121
REJECTED = 1122
BAD_REQUEST = 3000
BAD_SIGN = 3102
MISSING_PARAMETER = 3103
BAD_FORMAT = 3104
BAD_KEY = 3105
INVALID_NUMBER = 3200
NOT_EXECUTABLE = 4000
RATE_LIMITED = 4290
SECURITY_RESTRICTION = 4500
CALL_FREQUENCY_LIMIT = 4501
SERVER_ERROR = 5000

# The table of the product documentation, texts as given there (Russian).
CODES: dict[int, str] = {
    1000: "Действие успешно выполнено",
    1100: "Вызов завершен в нормальном режиме",
    1110: "Вызов завершен вызывающим абонентом",
    1111: "Вызов не получил ответа в течение времени ожидания",
    1120: "Вызов завершен вызываемым абонентом",
    1121: 'Получен ответ "занято" от удаленной стороны',
    1122: "Вызов отклонен вызываемым абонентом",
    1123: 'Получен сигнал "не беспокоить"',
    1124: "Вызов завершен по причине недоступности сотрудника",
    1130: "Ограничения для вызываемого номера",
    1131: "Вызываемый номер недоступен",
    1132: "Вызываемый номер не обслуживается",
    1133: "Вызываемый номер не существует",
    1134: "Превышено максимальное число переадресаций",
    1140: "Вызовы на регион запрещены настройками ВАТС",
    1150: "Ограничения для вызывающего номера",
    1151: "Вызывающий номер в «черном» списке",
    1152: "Вызывающий номер не найден в «белом» списке",
    1160: "Вызов на группу не удался",
    1161: "Удержание запрещено настройками ВАТС",
    1162: "Очередь удержания заполнена",
    1163: "Превышено время ожидания в очереди удержания",
    1164: "Все операторы в данный момент недоступны",
    1170: "Вызов завершен согласно схеме переадресации",
    1171: "Неверно настроена схема переадресации",
    1180: "Вызов завершен командой пользователя",
    1181: "Вызов завершен по команде из внешней системы",
    1182: "Вызов завершен перехватом на другого оператора (только для исходящих плеч)",
    1183: "Назначен новый оператор (при команде ApiConnect, обычно при переводах)",
    1190: "Вызываемый номер неактивен либо нерабочее расписание",
    1191: "Вызываемый номер неактивен (снят флажок активности ЛК)",
    1192: "Вызываемый номер неактивен по расписанию",
    1200: "Ошибка сессий КЦ",
    1201: "Достигнут лимит подключений",
    1202: "Данные сессии не найдены",
    1210: "Сервер КЦ не может принять подключение",
    1211: "Режим обслуживания",
    1212: "Сервер отключен от БД (БРТ)",
    1230: "Завершение сессии КЦ по независимым от пользователя причинам",
    1231: "Перезагрузка сервера КЦ",
    1232: "Сессия завершена администратором",
    1233: "Сессия завершена администратором, рекомендовано восстановление",
    1234: "Сессия завершена администратором, рекомендовано оставаться в оффлайн",
    1235: "Сервер отключился от БД (переход в БРТ)",
    1236: "Изменены критичные данные сессии (логин, пароль, номер телефона, и т.д.)",
    2000: "Ограничение биллинговой системы",
    2100: "Доступ к счету невозможен",
    2110: "Счет заблокирован",
    2120: "Счет закрыт",
    2130: "Счет не обслуживается (frozen)",
    2140: "Счет недействителен",
    2200: "Доступ к счету ограничен",
    2210: "Доступ ограничен периодом использования",
    2211: "Достигнут дневной лимит использования услуги",
    2212: "Достигнут месячный лимит использования услуги",
    2220: "Количество одновременных вызовов/действий ограничено",
    2230: "Услуга недоступна",
    2240: "Недостаточно средств на счете",
    2250: "Ограничение на количество использований услуги в биллинге",
    2300: "Направление заблокировано",
    2400: "Ошибка биллинга",
    3000: "Неверный запрос",
    3100: "Переданы неверные параметры команды",
    3101: "Запрос выполнен по методу, отличному от POST",
    3102: "Значение ключа не соответствуют рассчитанному",
    3103: "В запросе отсутствует обязательный параметр",
    3104: "Параметр передан в неправильном формате",
    3105: "Неверный ключ доступа",
    3200: "Неверно указан номер абонента",
    3300: "Объект не существует",
    3310: "Вызов не найден",
    3320: "Запись разговора не найдена",
    3330: "Номер не найден у ВАТС или сотрудника",
    3340: "Файл не найден",
    4000: "Действие не может быть выполнено",
    4001: "Команда не поддерживается",
    4002: (
        "Продолжительность записи меньше минимально возможной в ВАТС, запись не будет сохранена"
    ),
    4100: "Выполнить команду по логике работы ВАТС невозможно",
    4101: "Вызов завершен либо не существует",
    4102: "Запись разговора уже осуществляется",
    4200: "Связаться с абонентом в данный момент невозможно",
    4300: "SMS сообщение отправить не удалось",
    4301: "SMS сообщение устарело",
    4391: "SMS сообщение утеряно (статус возвращает внешний оператор)",
    4392: "SMS сообщение отклонено (статус возвращает внешний оператор)",
    4393: "SMS сообщение отменено (статус возвращает внешний оператор)",
    4400: "Невозможно добавить участника в конференцию",
    4401: "Аппаратная ошибка",
    4402: "Сервис не доступен",
    4403: "Недостаточно ресурсов",
    4404: "Превышено ограничение на количество участников конференции",
    4405: "Подключение запрещено настройками комнаты конференций",
    4500: "Ограничения системы безопасности",
    4501: "Установлено ограничение частоты звонков",
    4502: "Вызывающий номер в черном списке входящих номеров",
    4503: "Превышен максимальный размер файла",
    4504: "Не удалось определить размер файла",
    4505: "Формат файла не соответствует разрешенному",
    5000: "Ошибка сервера",
    5001: (
        "Перезапуск коммутатора, выполняется при срабатывании какого-либо ограничения "
        "канала или уровня на коммутаторе."
    ),
    5002: "Перезапуск коммутатора по команде администратора / разработчика",
    5003: "Технические проблемы, внутренняя ошибка на коммутаторе",
    5004: (
        "Проблемы доступа к базе данных коммутатора: не удалось подключиться к базе данных "
        "или в результате обработки запроса на манипуляцию с данными "
        "(чтение/вставка/удаление/ и так далее) в базе данных выдано сообщение об ошибке."
    ),
    5007: (
        "Во сторонней системе, связанной с коммутатором, выдано сообщение о внутренней "
        "ошибке. Сторонняя система не доступна коммутатору."
    ),
    5101: "Нет продукта ЦОВ/ Контакт центр",
    5102: "Превышен лимит активных кампаний",
    5103: "Превышен лимит кампаний",
    5105: 'Указанный при создании кампании "abonent_id" в поле "created by" не существует',
    5106: "Не удалось вставить задания из-за неподходящего статуса кампании",
    5107: "Количество заданий для кампании превышает допустимое значение (10 000)",
    5212: "Нет активных номеров. Укажите хотя бы один номер",
    6000: "Доставка факса не выполнялась",
    6010: "Технические проблемы сервиса факс-рассылок",
    6011: "Указанный в задании на рассылку номер недоступен в течение часа",
    6012: "Указанный в задании на рассылку номер не существует",
    6013: "На указанном номере не установлен факс-аппарат",
    6014: "Адресат отказался принимать факс",
    6100: "Ошибка при преобразовании факса",
    6101: "Превышен допустимый размер исходного файла (10 мегабайт)",
    6102: "Превышено допустимое число страниц (30)",
    # Not in the product table; named by the VPBX API specification for rate limiting.
    4290: "Превышен лимит частоты запросов к API",
}

CODES_EN: dict[int, str] = {
    1000: "Action completed successfully",
    1100: "Call ended normally",
    1110: "Call ended by the calling party",
    1111: "Call was not answered within the waiting time",
    1120: "Call ended by the called party",
    1121: "Busy signal from the remote side",
    1122: "Call rejected by the called party",
    1123: '"Do not disturb" signal received',
    1124: "Call ended because the employee is unavailable",
    1130: "Restrictions on the called number",
    1131: "Called number is unreachable",
    1132: "Called number is not in service",
    1133: "Called number does not exist",
    1134: "Maximum number of forwards exceeded",
    1140: "Calls to the region are forbidden by the VPBX settings",
    1150: "Restrictions on the calling number",
    1151: "Calling number is blacklisted",
    1152: "Calling number is not whitelisted",
    1160: "Call to the group failed",
    1161: "Holding is forbidden by the VPBX settings",
    1162: "Hold queue is full",
    1163: "Waiting time in the hold queue exceeded",
    1164: "All operators are unavailable at the moment",
    1170: "Call ended according to the forwarding scheme",
    1171: "Forwarding scheme is misconfigured",
    1180: "Call ended by a user command",
    1181: "Call ended by a command from an external system",
    1182: "Call ended by interception to another operator (outgoing legs only)",
    1183: "New operator assigned (ApiConnect command, usually on transfers)",
    1190: "Called number is inactive or outside its working schedule",
    1191: "Called number is inactive (account activity flag cleared)",
    1192: "Called number is inactive by schedule",
    1200: "Contact centre session error",
    1201: "Connection limit reached",
    1202: "Session data not found",
    1210: "Contact centre server cannot accept the connection",
    1211: "Maintenance mode",
    1212: "Server disconnected from the database",
    1230: "Contact centre session ended for reasons beyond the user's control",
    1231: "Contact centre server restart",
    1232: "Session ended by an administrator",
    1233: "Session ended by an administrator, reconnection recommended",
    1234: "Session ended by an administrator, staying offline recommended",
    1235: "Server lost its database connection",
    1236: "Critical session data changed (login, password, phone number, ...)",
    2000: "Billing system restriction",
    2100: "Account cannot be accessed",
    2110: "Account is blocked",
    2120: "Account is closed",
    2130: "Account is frozen",
    2140: "Account is invalid",
    2200: "Account access is restricted",
    2210: "Access restricted by the usage period",
    2211: "Daily usage limit of the service reached",
    2212: "Monthly usage limit of the service reached",
    2220: "Number of simultaneous calls/actions is limited",
    2230: "Service unavailable",
    2240: "Insufficient funds on the account",
    2250: "Limit on the number of uses of the service in billing",
    2300: "Destination is blocked",
    2400: "Billing error",
    3000: "Invalid request",
    3100: "Invalid command parameters",
    3101: "Request made with a method other than POST",
    3102: "Signature does not match the computed one",
    3103: "A required parameter is missing",
    3104: "A parameter has the wrong format",
    3105: "Invalid access key",
    3200: "Invalid subscriber number",
    3300: "Object does not exist",
    3310: "Call not found",
    3320: "Call recording not found",
    3330: "Number not found for the VPBX or the employee",
    3340: "File not found",
    4000: "Action cannot be performed",
    4001: "Command not supported",
    4002: "Recording shorter than the VPBX minimum; it will not be saved",
    4100: "The command cannot be performed by the VPBX's logic",
    4101: "Call has ended or does not exist",
    4102: "Call is already being recorded",
    4200: "Subscriber cannot be reached at the moment",
    4290: "API request rate limit exceeded",
    4300: "SMS could not be sent",
    4301: "SMS expired",
    4391: "SMS lost (status from the external operator)",
    4392: "SMS rejected (status from the external operator)",
    4393: "SMS cancelled (status from the external operator)",
    4400: "Cannot add a participant to the conference",
    4401: "Hardware error",
    4402: "Service not available",
    4403: "Insufficient resources",
    4404: "Conference participant limit exceeded",
    4405: "Joining forbidden by the conference room settings",
    4500: "Security restrictions",
    4501: "Call frequency limit in force",
    4502: "Calling number is in the incoming blacklist",
    4503: "Maximum file size exceeded",
    4504: "File size could not be determined",
    4505: "File format not allowed",
    5000: "Server error",
    5001: "Switch restart triggered by a channel or level limit on the switch",
    5002: "Switch restart by an administrator / developer",
    5003: "Technical problems, internal error on the switch",
    5004: "Switch database access problem",
    5007: "Internal error in a third-party system linked to the switch, or it is unreachable",
    5101: "No contact centre product",
    5102: "Active campaign limit exceeded",
    5103: "Campaign limit exceeded",
    5105: 'The "abonent_id" given as "created by" for the campaign does not exist',
    5106: "Tasks could not be inserted because of the campaign's status",
    5107: "Too many tasks for the campaign (10 000 at most)",
    5212: "No active numbers; give at least one number",
    6000: "Fax was not delivered",
    6010: "Technical problems of the fax service",
    6011: "The number in the fax task was unreachable for an hour",
    6012: "The number in the fax task does not exist",
    6013: "No fax machine on the number",
    6014: "Recipient refused the fax",
    6100: "Fax conversion error",
    6101: "Source file too large (10 MB at most)",
    6102: "Too many pages (30 at most)",
}

CLASS_NAMES: dict[int, str] = {
    1: "success or normal call end",
    2: "billing restriction",
    3: "invalid request",
    4: "action cannot be performed",
    5: "server error",
    6: "fax error",
}


@dataclass(frozen=True)
class CodeInfo:
    """What the table says about ``code``: the entry that matched (itself or its class)."""

    code: int
    matched: int | None  # the table entry used, None when the class is unknown
    text: str  # Russian text, or a sentence saying the code is unknown
    text_en: str

    @property
    def known(self) -> bool:
        return self.matched is not None

    @property
    def exact(self) -> bool:
        return self.matched == self.code


def parse_code(value: object) -> int:
    """A result code from an int or a string of digits ("1000", " 2219 "); else ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a result code: {value!r}")
    if isinstance(value, int):
        code = value
    elif isinstance(value, float) and value.is_integer():
        code = int(value)
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        code = int(value.strip())
    else:
        raise ValueError(f"not a result code: {value!r}")
    if code < 0:
        raise ValueError(f"not a result code: {value!r}")
    return code


def candidates(code: int) -> tuple[int, ...]:
    """The entries tried for ``code``, most specific first: 2219 → 2219, 2210, 2200, 2000."""
    out: list[int] = []
    for step in (1, 10, 100, 1000):
        value = code // step * step
        if value and value not in out:
            out.append(value)
    return tuple(out)


def lookup(code: object) -> CodeInfo:
    """Describe ``code`` by the class rule, with both texts and the entry that matched."""
    number = parse_code(code)
    if 1000 <= number <= 9999:
        for candidate in candidates(number):
            if candidate in CODES:
                return CodeInfo(
                    number, candidate, CODES[candidate], CODES_EN.get(candidate, CODES[candidate])
                )
    top = f"{number // 1000}ххх" if 1000 <= number <= 9999 else None
    if top is None:
        ru = f"Неизвестный код результата {number}: коды Mango Office состоят из четырёх цифр"
        en = f"unknown result code {number}: Mango Office codes have four digits"
    else:
        ru = f"Неизвестный код результата {number}: класс {top} не описан в таблице Mango Office"
        en = (
            f"unknown result code {number}: class {number // 1000}xxx is not in "
            "Mango Office's table"
        )
    return CodeInfo(number, None, ru, en)


def describe(code: object, lang: str = "ru") -> str:
    """The text for ``code`` by the class rule: ``describe(2219)`` is the text of 2210.

    ``lang`` is "ru" (the table's own texts) or "en". Unknown classes give a sentence saying
    the code is unknown. Raises ValueError when ``code`` is not a number.
    """
    info = lookup(code)
    return info.text_en if lang == "en" else info.text


def category(code: object) -> str:
    """The class of ``code`` in English ("billing restriction", ...) or "unknown"."""
    number = parse_code(code)
    return CLASS_NAMES.get(number // 1000, "unknown") if 1000 <= number <= 9999 else "unknown"


def is_success(code: object) -> bool:
    """True for "done" (1000–1099) and "call ended normally" (1100–1109)."""
    number = parse_code(code)
    return 1000 <= number <= 1109


def is_request_error(code: object) -> bool:
    """True for 3xxx: the request itself was invalid (these count toward Mango's lockout)."""
    return 3000 <= parse_code(code) <= 3999


def is_server_error(code: object) -> bool:
    """True for 5xxx."""
    return 5000 <= parse_code(code) <= 5999


# Named call outcomes, shared by the recording fake, the simulator and the CLI.
OUTCOMES: dict[str, int] = {
    "accepted": SUCCESS,
    "answered": CALL_ENDED_NORMALLY,
    "busy": BUSY,
    "no-answer": NO_ANSWER,
    "rejected": REJECTED,
    "dnd": 1123,
    "unavailable": 1131,
    "not-in-service": 1132,
    "no-such-number": 1133,
    "group-failed": 1160,
    "operators-unavailable": 1164,
    "invalid-number": INVALID_NUMBER,
    "frequency-limit": CALL_FREQUENCY_LIMIT,
    "server-error": SERVER_ERROR,
}


def outcome_code(outcome: object) -> int:
    """A result code from a code (1121, "1121") or an outcome name ("busy", "no_answer")."""
    if isinstance(outcome, str):
        name = outcome.strip().lower().replace("_", "-").replace(" ", "-")
        if name in OUTCOMES:
            return OUTCOMES[name]
    try:
        return parse_code(outcome)
    except ValueError:
        names = ", ".join(OUTCOMES)
        raise ValueError(
            f"unknown outcome {outcome!r}: give a result code or one of {names}"
        ) from None
