"""Interface texts in English, Russian and Kazakh, and language-aware number formats.

``t(key)`` returns the text in the language chosen in the sidebar (session state), so every
label, unit and number follows the switch at once. Oblast and place names come from the data's
``name_en``/``name_ru``/``name_kk`` columns (:func:`name_column`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import streamlit as st

from planner.brief import format_number, format_share
from planner.ui import state

LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "ru": "Русский", "kk": "Қазақша"})
NAME_COLUMN: Mapping[str, str] = MappingProxyType(
    {"en": "name_en", "ru": "name_ru", "kk": "name_kk"}
)

# key: (English, Russian, Kazakh)
_STRINGS: dict[str, tuple[str, str, str]] = {
    "app_title": (
        "KZ service-network planner",
        "Планировщик сервисной сети (Казахстан)",
        "Сервис желісін жоспарлаушы (Қазақстан)",
    ),
    "language": ("Language", "Язык", "Тіл"),
    "nav_explore": ("Explore", "Обзор", "Шолу"),
    "nav_scenario": ("Scenario", "Сценарий", "Сценарий"),
    "nav_compare": ("Compare", "Сравнение", "Салыстыру"),
    "nav_data": ("Data", "Данные", "Деректер"),
    "nav_export": ("Export", "Экспорт", "Экспорт"),
    # Explore
    "explore_title": (
        "Explore the Kazakhstan data",
        "Обзор данных по Казахстану",
        "Қазақстан деректеріне шолу",
    ),
    "data": ("Data", "Данные", "Деректер"),
    "generating_farms": (
        "Generating synthetic farms …",
        "Генерация синтетических хозяйств …",
        "Синтетикалық шаруашылықтар жасалуда …",
    ),
    "synthetic_farms": ("Synthetic farms", "Синтетические хозяйства", "Синтетикалық шаруашылықтар"),
    "belarus_share": (
        "Belarus-made share of machines",
        "Доля белорусской техники",
        "Беларусь техникасының үлесі",
    ),
    "oblasts": ("Oblasts", "Области", "Облыстар"),
    "all_oblasts": ("All oblasts", "Все области", "Барлық облыстар"),
    "tab_table": ("Table", "Таблица", "Кесте"),
    "tab_chart": ("Chart", "Диаграмма", "Диаграмма"),
    "machine_type": ("Machine type", "Тип техники", "Техника түрі"),
    "m_all": ("All machines", "Вся техника", "Барлық техника"),
    "m_tractors": ("Tractors", "Тракторы", "Тракторлар"),
    "m_combines": ("Combines", "Комбайны", "Комбайндар"),
    "age_class": ("Age class", "Возраст", "Жасы"),
    "a_all": ("All ages", "Любой возраст", "Барлық жас"),
    "a_0_10": ("0–10 years", "0–10 лет", "0–10 жыл"),
    "a_10_17": ("10–17 years", "10–17 лет", "10–17 жыл"),
    "a_17p": ("over 17 years", "старше 17 лет", "17 жылдан асқан"),
    "layers": ("Layers", "Слои", "Қабаттар"),
    "settlements": ("Settlements", "Населённые пункты", "Елді мекендер"),
    "facilities": (
        "Existing Belarusian operations",
        "Действующие белорусские предприятия",
        "Жұмыс істеп тұрған беларусь кәсіпорындары",
    ),
    "rail": ("Rail entry points", "Ж/д пункты въезда", "Теміржол кіру пункттері"),
    "candidates": ("Candidate sites", "Площадки-кандидаты", "Үміткер алаңдар"),
    "synthetic_note": (
        "Farms are **synthetic**: generated around real GeoNames settlements and calibrated to "
        "oblast sown area and fleet totals. They are not real farms.",
        "Хозяйства **синтетические**: размещены вокруг реальных населённых пунктов GeoNames и "
        "откалиброваны по посевной площади и парку техники областей. Это не реальные хозяйства.",
        "Шаруашылықтар **синтетикалық**: нақты GeoNames елді мекендерінің маңында орналасқан "
        "және облыстардың егіс алаңы мен техника паркі бойынша калибрленген. Олар нақты емес.",
    ),
    "farms_shown": ("Farms shown", "Показано хозяйств", "Көрсетілген шаруашылықтар"),
    "machines_sel": ("Machines (selection)", "Техника (выборка)", "Техника (таңдау)"),
    "hours_year": ("Service hours / year", "Сервисных часов в год", "Жылына сервистік сағат"),
    "farms_cell": (
        "{n} farms, {w} machines",
        "{n} хозяйств, {w} ед. техники",
        "{n} шаруашылық, {w} техника",
    ),
    "pop": ("pop.", "нас.", "тұрғын"),
    "rail_entry": ("Rail entry", "Ж/д въезд", "Теміржол кіру"),
    "col_iso": ("ISO", "ISO", "ISO"),
    "col_oblast": ("Oblast", "Область", "Облыс"),
    "col_sown": ("Sown area, kha", "Посевная площадь, тыс. га", "Егіс алаңы, мың га"),
    "col_tractors": ("Tractors", "Тракторы", "Тракторлар"),
    "col_combines": ("Combines", "Комбайны", "Комбайндар"),
    "col_fleet": ("Fleet figures", "Данные о парке", "Парк деректері"),
    "sources": (
        "Sources: sown area and fleet per oblast — see `planner data` and geodata/MANIFEST.toml "
        "(estimated values are marked); settlements © GeoNames (CC BY 4.0); outline from Natural "
        "Earth (public domain) via countryinfo.",
        "Источники: посевная площадь и парк техники по областям — см. `planner data` и "
        "geodata/MANIFEST.toml (оценки отмечены); населённые пункты © GeoNames (CC BY 4.0); "
        "контур — Natural Earth (общественное достояние).",
        "Дереккөздер: облыстар бойынша егіс алаңы мен техника паркі — `planner data` және "
        "geodata/MANIFEST.toml (бағалаулар белгіленген); елді мекендер © GeoNames (CC BY 4.0); "
        "контур — Natural Earth (қоғамдық игілік).",
    ),
    # Scenario editor
    "scenario_title": (
        "Build and run a scenario",
        "Построить и рассчитать сценарий",
        "Сценарийді құру және есептеу",
    ),
    "start_from": ("Start from", "Основа", "Негізі"),
    "load": ("Load", "Загрузить", "Жүктеу"),
    "builtin": ("built-in", "встроенный", "кірістірілген"),
    "saved": ("saved", "сохранённый", "сақталған"),
    "name": ("Scenario name", "Название сценария", "Сценарий атауы"),
    "title": ("Title", "Заголовок", "Тақырып"),
    "sec_model": ("Model", "Модель", "Модель"),
    "sec_demand": ("Farms and demand", "Хозяйства и спрос", "Шаруашылықтар және сұраныс"),
    "sec_travel": ("Travel", "Поездки", "Жол жүру"),
    "sec_demand_params": (
        "Demand assumptions (hours per machine)",
        "Допущения о спросе (часы на машину)",
        "Сұраныс болжамдары (машинаға сағат)",
    ),
    "demand_params_note": (
        "Engine hours per year, labour per maintenance visit (MTZ 952.5 schedule), repair "
        "hours and age uplifts, peak-week shares. Values without a Kazakhstan source are "
        "assumptions; see planner/demand.py.",
        "Моточасы в год, трудоёмкость ТО (регламент МТЗ 952.5), часы ремонта и надбавки на "
        "возраст, доли пиковой недели. Значения без казахстанского источника — допущения; см. "
        "planner/demand.py.",
        "Жылына мотосағат, ТҚ еңбек сыйымдылығы (МТЗ 952.5 регламенті), жөндеу сағаттары және "
        "жас үстемелері, шың апта үлестері. Қазақстандық дереккөзі жоқ мәндер — болжам; "
        "planner/demand.py қараңыз.",
    ),
    "sec_sites": (
        "Sites, capacities and costs",
        "Площадки, мощности и затраты",
        "Алаңдар, қуаттар және шығындар",
    ),
    "sec_solver": ("Solver", "Решатель", "Шешуші"),
    "model_kind": ("Model", "Модель", "Модель"),
    "k_p_median": (
        "p-median: minimise demand-weighted travel",
        "p-медиана: минимум взвешенного пути",
        "p-медиана: салмақты жолды азайту",
    ),
    "k_cflp": (
        "capacitated facility location: fixed + transport cost",
        "размещение с мощностями: постоянные + транспортные затраты",
        "қуатты орналастыру: тұрақты + көлік шығындары",
    ),
    "k_mclp": (
        "maximal coverage: most demand within the radius",
        "максимальное покрытие: больше спроса в радиусе",
        "максималды қамту: радиустағы сұраныс",
    ),
    "k_set_cover": (
        "set covering: fewest sites covering everyone",
        "покрытие множества: минимум площадок для всех",
        "жиынды қамту: барлығына ең аз алаң",
    ),
    "k_p_center": (
        "p-center: minimise the worst travel",
        "p-центр: минимум наихудшего пути",
        "p-орталық: ең нашар жолды азайту",
    ),
    "k_two_echelon": (
        "two-echelon: plants and service centres jointly",
        "двухуровневая: заводы и сервисные центры вместе",
        "екі деңгейлі: зауыттар мен сервис орталықтары бірге",
    ),
    "p": ("Number of centres p", "Число центров p", "Орталықтар саны p"),
    "radius_unit": ("Service radius in", "Радиус обслуживания в", "Қызмет радиусы"),
    "u_km": ("km", "км", "км"),
    "u_min": ("minutes", "минутах", "минут"),
    "radius_km": ("Service radius, km", "Радиус обслуживания, км", "Қызмет радиусы, км"),
    "radius_min": ("Service time, min", "Время обслуживания, мин", "Қызмет уақыты, мин"),
    "farms_source": ("Farms", "Хозяйства", "Шаруашылықтар"),
    "synthetic": ("synthetic", "синтетические", "синтетикалық"),
    "n_farms": (
        "Number of synthetic farms",
        "Число синтетических хозяйств",
        "Синтетикалық шаруашылықтар саны",
    ),
    "farm_seed": (
        "Random seed of farms",
        "Зерно генерации хозяйств",
        "Шаруашылық генерациясының дәні",
    ),
    "belarus_only": (
        "Count only Belarus-made machines",
        "Учитывать только белорусскую технику",
        "Тек беларусь техникасын есептеу",
    ),
    "basis": ("Demand basis", "Основа спроса", "Сұраныс негізі"),
    "b_year": ("service hours per year", "сервисные часы в год", "жылына сервистік сағат"),
    "b_peak_week": (
        "service hours in the peak week",
        "сервисные часы в пиковую неделю",
        "шың аптадағы сервистік сағат",
    ),
    "circuity": (
        "Road circuity (road km per straight km)",
        "Извилистость дорог (км дороги на км по прямой)",
        "Жол иірімділігі (түзу км-ге жол км)",
    ),
    "speed": (
        "Service-vehicle speed, km/h",
        "Скорость сервисной машины, км/ч",
        "Сервис көлігінің жылдамдығы, км/сағ",
    ),
    "cost_unit": ("Model costs in", "Затраты модели в", "Модель шығындары"),
    "k_nearest": (
        "Nearest sites kept per farm",
        "Ближайших площадок на хозяйство",
        "Шаруашылыққа ең жақын алаңдар",
    ),
    "sites_source": ("Candidate sites", "Площадки-кандидаты", "Үміткер алаңдар"),
    "settlements_src": (
        "settlements (GeoNames)",
        "населённые пункты (GeoNames)",
        "елді мекендер (GeoNames)",
    ),
    "min_pop": (
        "Minimum settlement population",
        "Минимальное население пункта",
        "Елді мекеннің ең аз тұрғыны",
    ),
    "include_existing": (
        "Existing Belarusian operations are candidates",
        "Действующие белорусские предприятия — кандидаты",
        "Жұмыс істеп тұрған беларусь кәсіпорындары — үміткерлер",
    ),
    "required": ("Required sites (kept open)", "Обязательные площадки", "Міндетті алаңдар"),
    "forbidden": ("Forbidden sites", "Запрещённые площадки", "Тыйым салынған алаңдар"),
    "pick_on_map": (
        "Pick sites on the map",
        "Выбрать площадки на карте",
        "Алаңдарды картадан таңдау",
    ),
    "pick_role": ("Clicked sites become", "Выбранные площадки становятся", "Таңдалған алаңдар"),
    "pick_hint": (
        "Click candidate sites on the map (shift-click for several).",
        "Щёлкните площадки на карте (shift — несколько).",
        "Картадағы алаңдарды басыңыз (бірнешеуі үшін shift).",
    ),
    "capacity": (
        "Capacity per site, service hours/year (0 = unlimited)",
        "Мощность площадки, сервисных часов в год (0 = без ограничений)",
        "Алаң қуаты, жылына сервистік сағат (0 = шексіз)",
    ),
    "existing_capacity": (
        "Capacity of existing operations, hours/year (0 = unlimited)",
        "Мощность действующих предприятий, часов в год (0 = без ограничений)",
        "Жұмыс істеп тұрғандардың қуаты, сағат/жыл (0 = шексіз)",
    ),
    "fixed_cost": (
        "Fixed cost per new site, KZT/year",
        "Постоянные затраты новой площадки, тенге в год",
        "Жаңа алаңның тұрақты шығыны, теңге/жыл",
    ),
    "existing_fixed_cost": (
        "Fixed cost of existing operations, KZT/year",
        "Постоянные затраты действующих, тенге в год",
        "Жұмыс істеп тұрғандардың тұрақты шығыны, теңге/жыл",
    ),
    "travel_cost": (
        "Transport cost, KZT per road km",
        "Транспортные затраты, тенге за км",
        "Көлік шығыны, жол км үшін теңге",
    ),
    "hours_per_visit": (
        "Service hours per visit",
        "Сервисных часов за выезд",
        "Бір барудағы сервистік сағат",
    ),
    "single_source": (
        "Each farm served by one site",
        "Каждое хозяйство — одна площадка",
        "Әр шаруашылыққа бір алаң",
    ),
    "capacitated": ("Respect capacities", "Учитывать мощности", "Қуаттарды ескеру"),
    "weighted": (
        "Weight travel by demand",
        "Взвешивать путь спросом",
        "Жолды сұраныспен салмақтау",
    ),
    "min_new": ("Minimum new sites", "Минимум новых площадок", "Жаңа алаңдардың ең азы"),
    "max_new": (
        "Maximum new sites (0 = no limit)",
        "Максимум новых площадок (0 = без ограничения)",
        "Жаңа алаңдардың ең көбі (0 = шексіз)",
    ),
    "time_limit": ("Time limit, s", "Лимит времени, с", "Уақыт шегі, с"),
    "backend": ("Solver backend", "Решатель", "Шешуші"),
    "n_best": ("Alternatives to report", "Число альтернатив", "Баламалар саны"),
    "regret": (
        "Compute regret of dropping each site",
        "Считать потери при закрытии площадки",
        "Алаңды жабу шығынын есептеу",
    ),
    "seed": ("Solver seed", "Зерно решателя", "Шешуші дәні"),
    "gap_tol": (
        "Stop at optimality gap, %",
        "Остановить при разрыве, %",
        "Алшақтықта тоқтату, %",
    ),
    "run": ("Run", "Рассчитать", "Есептеу"),
    "cancel": ("Cancel", "Отменить", "Болдырмау"),
    "running": ("Solving … {s:.0f} s", "Решение … {s:.0f} с", "Шешілуде … {s:.0f} с"),
    "preparing": (
        "Preparing data (farms, demand, travel costs) …",
        "Подготовка данных (хозяйства, спрос, расстояния) …",
        "Деректер дайындалуда (шаруашылықтар, сұраныс, қашықтық) …",
    ),
    "incumbent": ("Best solution", "Лучшее решение", "Ең жақсы шешім"),
    "bound": ("Bound", "Граница", "Шекара"),
    "gap": ("Gap", "Разрыв", "Алшақтық"),
    # solver outcomes (planner.models Status values)
    "status_optimal": ("optimal", "оптимально", "оңтайлы"),
    "status_feasible": ("feasible", "допустимое решение", "мүмкін шешім"),
    "status_infeasible": ("infeasible", "решения нет", "шешім жоқ"),
    "status_error": ("error", "ошибка", "қате"),
    "phase": ("Phase", "Этап", "Кезең"),
    "cancelled": (
        "Cancelled: showing the best solution found so far.",
        "Отменено: показано лучшее найденное решение.",
        "Болдырылмады: осы уақытқа дейінгі ең жақсы шешім.",
    ),
    "solve_failed": ("The solve failed:", "Расчёт не удался:", "Есептеу сәтсіз:"),
    "internal_error": (
        "Something went wrong inside the planner ({err}). Your inputs are kept; try again or "
        "change the scenario.",
        "Внутренняя ошибка планировщика ({err}). Ввод сохранён; попробуйте ещё раз или "
        "измените сценарий.",
        "Жоспарлаушының ішкі қатесі ({err}). Енгізілгендер сақталды; қайталаңыз немесе "
        "сценарийді өзгертіңіз.",
    ),
    "results": ("Results", "Результаты", "Нәтижелер"),
    "run_info": (
        "run {n}, {s} s, {at}",
        "запуск {n}, {s} с, {at}",
        "іске қосу {n}, {s} с, {at}",
    ),
    "fleet_estimated": ("estimated", "оценка", "бағалау"),
    "fleet_sourced": ("sourced", "по источнику", "дереккөз бойынша"),
    "stale_result": (
        "previous result: a new solve is running",
        "прежний результат: идёт новый расчёт",
        "алдыңғы нәтиже: жаңа есептеу жүріп жатыр",
    ),
    "no_results": (
        "Run the scenario to see results.",
        "Рассчитайте сценарий, чтобы увидеть результаты.",
        "Нәтижелерді көру үшін сценарийді есептеңіз.",
    ),
    "status": ("Status", "Статус", "Күйі"),
    "kpi_open": ("Open sites", "Открытые площадки", "Ашық алаңдар"),
    "kpi_mean": ("Mean travel, km", "Средний путь, км", "Орташа жол, км"),
    "kpi_p95": ("95th pct travel, km", "95-й процентиль, км", "95-ші процентиль, км"),
    "kpi_time": ("Mean travel, min", "Среднее время, мин", "Орташа уақыт, мин"),
    "kpi_1h": ("Demand within 1 h", "Спрос в пределах 1 ч", "1 сағ ішіндегі сұраныс"),
    "kpi_2h": ("Demand within 2 h", "Спрос в пределах 2 ч", "2 сағ ішіндегі сұраныс"),
    "kpi_3h": ("Demand within 3 h", "Спрос в пределах 3 ч", "3 сағ ішіндегі сұраныс"),
    "kpi_covered": ("Covered demand", "Покрытый спрос", "Қамтылған сұраныс"),
    "kpi_unserved": (
        "Farms not served",
        "Необслуженные хозяйства",
        "Қызмет көрсетілмеген шаруашылықтар",
    ),
    "kpi_objective": ("Objective", "Целевая функция", "Мақсат функциясы"),
    "kpi_fixed": (
        "Fixed cost, KZT/year",
        "Постоянные затраты, тенге/год",
        "Тұрақты шығын, теңге/жыл",
    ),
    "map_show": ("Show", "Показать", "Көрсету"),
    "ml_lines": ("assignment lines", "линии прикрепления", "тіркеу сызықтары"),
    "ml_catch": ("catchment areas", "зоны обслуживания", "қызмет аймақтары"),
    "uncovered_farms": (
        "Uncovered farms (red)",
        "Необслуженные хозяйства (красные)",
        "Қамтылмаған шаруашылықтар (қызыл)",
    ),
    "site_table": ("Open sites", "Открытые площадки", "Ашық алаңдар"),
    "dossier": ("Site dossier", "Карточка площадки", "Алаң паспорты"),
    "d_machines": ("Machines served", "Обслуживаемая техника", "Қызмет көрсетілетін техника"),
    "d_farms": ("Farms served", "Обслуживаемые хозяйства", "Қызмет көрсетілетін шаруашылықтар"),
    "d_load": ("Load, service hours", "Нагрузка, сервисных часов", "Жүктеме, сервистік сағат"),
    "d_util": ("Utilisation", "Загрузка", "Жүктелу"),
    "d_regret": ("Cost increase if dropped", "Рост затрат при закрытии", "Жабылса шығын өсімі"),
    "d_mean": (
        "Mean travel of its farms, km",
        "Средний путь его хозяйств, км",
        "Шаруашылықтарының орташа жолы, км",
    ),
    "d_max": ("Farthest farm, km", "Самое дальнее хозяйство, км", "Ең алыс шаруашылық, км"),
    "d_oblasts": ("Oblasts served", "Обслуживаемые области", "Қызмет көрсетілетін облыстар"),
    "save": ("Save to workspace", "Сохранить в рабочую область", "Жұмыс аймағына сақтау"),
    "save_def": (
        "Save scenario (without results)",
        "Сохранить сценарий (без результатов)",
        "Сценарийді сақтау (нәтижесіз)",
    ),
    "save_as": ("Save as", "Сохранить как", "Келесідей сақтау"),
    "overwrite": (
        "Overwrite if the name exists (the old version is kept)",
        "Перезаписать, если имя занято (старая версия сохранится)",
        "Атау бар болса қайта жазу (ескі нұсқа сақталады)",
    ),
    "saved_ok": (
        "Saved `{name}` to the workspace.",
        "Сценарий «{name}» сохранён.",
        "«{name}» сақталды.",
    ),
    "unsaved": (
        "Results not saved yet.",
        "Результаты ещё не сохранены.",
        "Нәтижелер әлі сақталмаған.",
    ),
    "workspace": ("Workspace", "Рабочая область", "Жұмыс аймағы"),
    "ws_empty": (
        "No saved scenarios yet.",
        "Сохранённых сценариев пока нет.",
        "Сақталған сценарийлер әлі жоқ.",
    ),
    "ws_pick": ("Saved scenario", "Сохранённый сценарий", "Сақталған сценарий"),
    "ws_new_name": ("New name", "Новое имя", "Жаңа атау"),
    "rename": ("Rename", "Переименовать", "Атын өзгерту"),
    "duplicate": ("Duplicate", "Дублировать", "Көшіру"),
    "delete": ("Delete", "Удалить", "Жою"),
    "confirm_delete": (
        "Yes, move it to the trash",
        "Да, переместить в корзину",
        "Иә, себетке жылжыту",
    ),
    "trash": ("Trash", "Корзина", "Себет"),
    "restore": ("Restore", "Восстановить", "Қалпына келтіру"),
    "loaded": ("Loaded `{name}`.", "Загружен «{name}».", "«{name}» жүктелді."),
    "col_site": ("Site", "Площадка", "Алаң"),
    "col_status": ("Status", "Статус", "Күйі"),
    "col_load": ("Load, h/yr", "Нагрузка, ч/год", "Жүктеме, сағ/жыл"),
    "col_farms": ("Farms", "Хозяйства", "Шаруашылықтар"),
    "col_util": ("Utilisation", "Загрузка", "Жүктелу"),
    "col_regret": ("Regret", "Потери при закрытии", "Жабу шығыны"),
    "progress_chart": (
        "Incumbent and bound over time",
        "Решение и граница во времени",
        "Шешім мен шекара уақыт бойынша",
    ),
    "elapsed": ("elapsed, s", "прошло, с", "өтті, с"),
    "data_notes": (
        "Assumptions and data notes",
        "Допущения и замечания о данных",
        "Болжамдар мен деректер ескертпелері",
    ),
    # Compare
    "compare_title": (
        "Compare saved scenarios",
        "Сравнение сохранённых сценариев",
        "Сақталған сценарийлерді салыстыру",
    ),
    "cmp_pick": (
        "Scenarios (2–4; the first is the baseline)",
        "Сценарии (2–4; первый — базовый)",
        "Сценарийлер (2–4; біріншісі — базалық)",
    ),
    "cmp_need": (
        "Save at least two solved scenarios on the Scenario page to compare them.",
        "Сохраните хотя бы два рассчитанных сценария на странице «Сценарий».",
        "Салыстыру үшін «Сценарий» бетінде кемінде екі есептелген сценарий сақтаңыз.",
    ),
    "col_kpi": ("KPI", "Показатель", "Көрсеткіш"),
    "pp": ("pp", "п.п.", "п.т."),
    "cmp_kpis": (
        "Key figures (Δ against the baseline)",
        "Показатели (Δ к базовому)",
        "Көрсеткіштер (базалыққа Δ)",
    ),
    "cmp_maps": (
        "Maps (green: opened vs baseline, grey: closed vs baseline)",
        "Карты (зелёные: открыты в отличие от базового, серые: закрыты)",
        "Карталар (жасыл: базалықпен салыстырғанда ашылған, сұр: жабылған)",
    ),
    "cmp_diff": ("Sites that differ", "Различающиеся площадки", "Ерекшеленетін алаңдар"),
    "cmp_same": (
        "All scenarios open the same sites.",
        "Все сценарии открывают одни и те же площадки.",
        "Барлық сценарийлер бірдей алаңдарды ашады.",
    ),
    "sweep_title": (
        "Trade-off: number of centres vs service level",
        "Компромисс: число центров и уровень сервиса",
        "Орталықтар саны мен сервис деңгейі",
    ),
    "sweep_base": ("Scenario to sweep", "Сценарий для перебора", "Сценарий"),
    "sweep_range": ("Numbers of centres p", "Число центров p", "Орталықтар саны p"),
    "sweep_run": ("Compute curve", "Построить кривую", "Қисықты есептеу"),
    "sweep_note": (
        "Each point is a short heuristic solve with the scenario's data (inputs reused).",
        "Каждая точка — короткий эвристический расчёт на данных сценария.",
        "Әр нүкте — сценарий деректерімен қысқа эвристикалық есептеу.",
    ),
    "baseline": ("baseline", "базовый", "базалық"),
    "opened": ("opened", "открыта", "ашылды"),
    "closed": ("closed", "закрыта", "жабылды"),
    # Data
    "data_title": ("Your own data", "Ваши данные", "Өз деректеріңіз"),
    "data_intro": (
        "Upload a farm registry or a list of candidate sites (CSV, XLSX, GeoJSON or "
        "GeoPackage). The file is checked, every problem is listed with its row and column, and "
        "a valid file can be kept in the workspace and used in scenarios.",
        "Загрузите реестр хозяйств или список площадок (CSV, XLSX, GeoJSON или GeoPackage). "
        "Файл проверяется, каждая проблема указывается со строкой и столбцом; корректный файл "
        "можно сохранить в рабочей области и использовать в сценариях.",
        "Шаруашылықтар тізілімін немесе алаңдар тізімін жүктеңіз (CSV, XLSX, GeoJSON немесе "
        "GeoPackage). Файл тексеріледі, әр мәселе жол мен бағанымен көрсетіледі; дұрыс файлды "
        "жұмыс аймағында сақтап, сценарийлерде қолдануға болады.",
    ),
    "farms_file": ("Farm registry", "Реестр хозяйств", "Шаруашылықтар тізілімі"),
    "sites_file": ("Candidate sites", "Площадки-кандидаты", "Үміткер алаңдар"),
    "template": ("Download template", "Скачать шаблон", "Үлгіні жүктеу"),
    "valid": (
        "Valid: {n} rows read.",
        "Корректно: прочитано строк — {n}.",
        "Дұрыс: {n} жол оқылды.",
    ),
    "invalid": (
        "The file cannot be used: {n} problem(s).",
        "Файл нельзя использовать: проблем — {n}.",
        "Файлды қолдануға болмайды: {n} мәселе.",
    ),
    "keep": ("Keep in workspace", "Сохранить в рабочей области", "Жұмыс аймағында сақтау"),
    "kept": ("Kept in the workspace.", "Сохранено в рабочей области.", "Жұмыс аймағында сақталды."),
    "uploads": ("Files in the workspace", "Файлы в рабочей области", "Жұмыс аймағындағы файлдар"),
    "upload_limits": (
        "≤ {mb} MB, ≤ {rows} rows",
        "≤ {mb} МБ, ≤ {rows} строк",
        "≤ {mb} МБ, ≤ {rows} жол",
    ),
    "kb": ("KB", "КБ", "КБ"),
    "kind_farms": ("farms", "хозяйства", "шаруашылықтар"),
    "kind_sites": ("sites", "площадки", "алаңдар"),
    "use": ("Use in the scenario editor", "Использовать в сценарии", "Сценарийде қолдану"),
    "used": (
        "The scenario editor now uses `{name}`.",
        "Редактор сценария использует «{name}».",
        "Сценарий редакторы «{name}» қолданады.",
    ),
    "too_big": (
        "The file is {mb:.1f} MB; the limit is {limit} MB (set PLANNER_MAX_UPLOAD_MB).",
        "Файл {mb:.1f} МБ; предел {limit} МБ (PLANNER_MAX_UPLOAD_MB).",
        "Файл {mb:.1f} МБ; шек {limit} МБ (PLANNER_MAX_UPLOAD_MB).",
    ),
    "too_many_rows": (
        "The file has {n} rows; the limit is {limit} (set PLANNER_MAX_UPLOAD_ROWS).",
        "В файле {n} строк; предел {limit} (PLANNER_MAX_UPLOAD_ROWS).",
        "Файлда {n} жол; шек {limit} (PLANNER_MAX_UPLOAD_ROWS).",
    ),
    "preview": ("First rows as read", "Первые строки", "Алғашқы жолдар"),
    "uploaded": ("uploaded", "загруженные", "жүктелген"),
    # Export
    "export_title": ("Export results", "Экспорт результатов", "Нәтижелерді экспорттау"),
    "exp_pick": ("Solved scenario", "Рассчитанный сценарий", "Есептелген сценарий"),
    "exp_current": (
        "current (unsaved) run",
        "текущий (несохранённый) расчёт",
        "ағымдағы (сақталмаған) есептеу",
    ),
    "exp_need": (
        "Run a scenario or save one with results first.",
        "Сначала рассчитайте или сохраните сценарий с результатами.",
        "Алдымен сценарийді есептеңіз немесе нәтижелерімен сақтаңыз.",
    ),
    "exp_prepare": ("Prepare files", "Подготовить файлы", "Файлдарды дайындау"),
    "exp_all": ("All files (ZIP)", "Все файлы (ZIP)", "Барлық файлдар (ZIP)"),
    "exp_same": (
        "The same files as `planner solve --out DIR`; the brief and oblast names follow the "
        "interface language.",
        "Те же файлы, что пишет `planner solve --out DIR`; записка и названия областей — на "
        "языке интерфейса.",
        "`planner solve --out DIR` жазатын файлдармен бірдей; анықтама мен облыс атаулары "
        "интерфейс тілінде.",
    ),
    "brief_preview": ("Brief preview", "Просмотр записки", "Анықтаманы алдын ала қарау"),
    # Network page (two echelons: assembly plants + service centres)
    "nav_network": ("Network", "Сеть", "Желі"),
    "net_title": (
        "Network: assembly plants and service centres",
        "Сеть: сборочные заводы и сервисные центры",
        "Желі: құрастыру зауыттары және сервис орталықтары",
    ),
    "net_intro": (
        "One model decides plants, service centres (tractor-only or combine-capable), vans and "
        "flows over the growth years; centres are sized for the peak week. Farms are "
        "**synthetic** and every cost is an assumption of the built-in `two_echelon` scenario.",
        "Одна модель выбирает заводы, сервисные центры (только тракторы или с комбайнами), "
        "выездные бригады и потоки на годы роста; центры рассчитаны на пиковую неделю. "
        "Хозяйства **синтетические**, все затраты — допущения встроенного сценария "
        "`two_echelon`.",
        "Бір модель өсу жылдарына зауыттарды, сервис орталықтарын (тек тракторлар немесе "
        "комбайндармен), көшпелі бригадаларды және ағындарды таңдайды; орталықтар шың аптасына "
        "есептелген. Шаруашылықтар **синтетикалық**, барлық шығындар — `two_echelon` "
        "сценарийінің болжамдары.",
    ),
    "net_sec_growth": ("Fleet growth", "Рост парка", "Парктің өсуі"),
    "net_sec_service": (
        "Service centres and vans",
        "Сервисные центры и выездные бригады",
        "Сервис орталықтары және көшпелі бригадалар",
    ),
    "net_sec_plants": (
        "Assembly plants, objective, solver",
        "Сборочные заводы, цель, решатель",
        "Құрастыру зауыттары, мақсат, шешуші",
    ),
    "net_years": ("Years ahead", "Лет вперёд", "Алдағы жылдар"),
    "net_fleet_share": (
        "Belarus share of today's fleet, %",
        "Доля Беларуси в текущем парке, %",
        "Қазіргі парктегі Беларусь үлесі, %",
    ),
    "net_purchase_share": (
        "Belarus share of purchases, %",
        "Доля Беларуси в закупках, %",
        "Сатып алудағы Беларусь үлесі, %",
    ),
    "net_renew_start": (
        "Renewal rate, first year, %/yr",
        "Темп обновления, первый год, %/год",
        "Жаңарту қарқыны, бірінші жыл, %/жыл",
    ),
    "net_renew_end": (
        "Renewal rate, last year, %/yr",
        "Темп обновления, последний год, %/год",
        "Жаңарту қарқыны, соңғы жыл, %/жыл",
    ),
    "net_radius": (
        "Direct service radius, road km",
        "Радиус прямого сервиса, км по дороге",
        "Тікелей сервис радиусы, жол км",
    ),
    "net_centre_cap": (
        "Centre capacity, service h/week",
        "Мощность центра, сервисных ч/нед",
        "Орталық қуаты, сервис сағ/апта",
    ),
    "net_centre_cost": (
        "Centre fixed cost, M KZT/yr",
        "Постоянные затраты центра, млн тг/год",
        "Орталықтың тұрақты шығыны, млн тг/жыл",
    ),
    "net_combine_cost": (
        "Combine capability, extra M KZT/yr",
        "Сервис комбайнов, доп. млн тг/год",
        "Комбайн сервисі, қосымша млн тг/жыл",
    ),
    "net_vans": ("Mobile service vans", "Выездные бригады", "Көшпелі бригадалар"),
    "net_van_radius": (
        "Van radius, road km",
        "Радиус бригад, км по дороге",
        "Бригада радиусы, жол км",
    ),
    "net_max_vans": (
        "Max vans per centre",
        "Макс. бригад на центр",
        "Орталыққа ең көп бригада",
    ),
    "net_van_cost": (
        "Cost per van, M KZT/yr",
        "Затраты на бригаду, млн тг/год",
        "Бір бригада шығыны, млн тг/жыл",
    ),
    "net_plant_cap": (
        "New plant capacity, machines/yr",
        "Мощность нового завода, машин/год",
        "Жаңа зауыт қуаты, машина/жыл",
    ),
    "net_plant_cost": (
        "New plant fixed cost, M KZT/yr",
        "Постоянные затраты нового завода, млн тг/год",
        "Жаңа зауыттың тұрақты шығыны, млн тг/жыл",
    ),
    "net_keep_existing": (
        "Keep the existing Kostanay plants open",
        "Сохранить действующие заводы в Костанае",
        "Қостанайдағы жұмыс істеп тұрған зауыттарды сақтау",
    ),
    "net_objective": ("Objective", "Цель", "Мақсат"),
    "net_obj_cost": (
        "Least total cost",
        "Минимум общих затрат",
        "Жалпы шығынның минимумы",
    ),
    "net_obj_service_level": (
        "Best service level under a budget",
        "Лучший уровень сервиса в рамках бюджета",
        "Бюджет шегінде ең жақсы сервис деңгейі",
    ),
    "net_budget": (
        "Budget, M KZT/yr (service level)",
        "Бюджет, млн тг/год (уровень сервиса)",
        "Бюджет, млн тг/жыл (сервис деңгейі)",
    ),
    "net_assumptions": (
        "Kits come by rail from Minsk (tractors) and Gomel (combines) through the cheapest rail "
        "entry point; plants deliver machines to the centres; farms beyond the direct radius "
        "can only be served by a centre that runs vans.",
        "Машинокомплекты идут по железной дороге из Минска (тракторы) и Гомеля (комбайны) через "
        "самый дешёвый пункт въезда; заводы везут машины в центры; хозяйства за радиусом "
        "прямого сервиса обслуживает только центр с выездными бригадами.",
        "Машина жиынтықтары Минскіден (тракторлар) және Гомельден (комбайндар) ең арзан кіру "
        "пункті арқылы теміржолмен келеді; зауыттар машиналарды орталықтарға жеткізеді; "
        "тікелей радиустан тыс шаруашылықтарға тек бригадасы бар орталық қызмет көрсетеді.",
    ),
    "net_writing": (
        "Tabulating the plan and writing the files …",
        "Сводим план и записываем файлы …",
        "Жоспарды жинақтап, файлдарды жазудамыз …",
    ),
    "net_no_results": (
        "Run the network plan to see plants, centres, flows and weekly loads.",
        "Рассчитайте сеть, чтобы увидеть заводы, центры, потоки и недельную загрузку.",
        "Зауыттарды, орталықтарды, ағындарды және апталық жүктемені көру үшін желіні есептеңіз.",
    ),
    "net_no_solution": (
        "The solver stopped before finding a plan; try a longer time limit.",
        "Решатель остановился, не найдя плана; увеличьте лимит времени.",
        "Шешуші жоспар таппай тоқтады; уақыт шегін ұлғайтыңыз.",
    ),
    "net_kpi_year": (
        "figures of the last year, {year}",
        "показатели последнего года, {year}",
        "соңғы жылдың көрсеткіштері, {year}",
    ),
    "net_plants": ("Plants", "Заводы", "Зауыттар"),
    "net_centres": ("Service centres", "Сервисные центры", "Сервис орталықтары"),
    "net_combine_centres": (
        "Combine-capable centres",
        "Центры с сервисом комбайнов",
        "Комбайн сервисі бар орталықтар",
    ),
    "net_vans_n": ("Vans", "Бригады", "Бригадалар"),
    "net_served": ("Service hours served, %", "Обслужено часов, %", "Қызмет көрсетілген сағ, %"),
    "net_van_share": (
        "Served by van, %",
        "Обслужено бригадами, %",
        "Бригадамен қызмет, %",
    ),
    "net_van_machines": (
        "Van-served machines",
        "Машин обслуживают бригады",
        "Бригада қызмет ететін машиналар",
    ),
    "net_unserved_machines": (
        "Unserved machines",
        "Необслуженные машины",
        "Қызмет көрсетілмеген машиналар",
    ),
    "net_objective_bn": (
        "Objective, bn KZT (horizon)",
        "Целевая функция, млрд тг (горизонт)",
        "Мақсат функциясы, млрд тг (кезең)",
    ),
    "net_year_pick": ("Planning year", "Год плана", "Жоспар жылы"),
    "net_layers": ("Map layers", "Слои карты", "Карта қабаттары"),
    "net_layer_service": (
        "Service centre → farms",
        "Сервис центр → хозяйства",
        "Сервис орталық → шаруашылықтар",
    ),
    "net_layer_outbound": (
        "Machines plant → centre",
        "Машины завод → центр",
        "Машиналар зауыт → орталық",
    ),
    "net_layer_inbound": (
        "Kits rail entry → plant",
        "Машинокомплекты въезд → завод",
        "Жиынтықтар кіру → зауыт",
    ),
    "net_layer_vans": ("Van reach", "Зона бригад", "Бригада аймағы"),
    "net_map_legend": (
        "Squares: plants (red existing, black new). Circles: centres sized by service hours "
        "(blue tractor-only, purple combine-capable); orange rings: van reach. Arcs: kits "
        "(rail entry → plant) and machines (plant → centre), red tractors, yellow combines. "
        "Lines to farms: green direct, orange by van; red dots: unserved farms.",
        "Квадраты: заводы (красные — действующие, чёрные — новые). Круги: центры, размер по "
        "часам сервиса (синие — тракторы, фиолетовые — с комбайнами); оранжевые кольца — зона "
        "бригад. Дуги: машинокомплекты (въезд → завод) и машины (завод → центр), красные — "
        "тракторы, жёлтые — комбайны. Линии к хозяйствам: зелёные — прямой сервис, оранжевые — "
        "бригадами; красные точки — необслуженные хозяйства.",
        "Шаршылар: зауыттар (қызыл — жұмыс істеп тұрған, қара — жаңа). Шеңберлер: орталықтар, "
        "өлшемі сервис сағаттары бойынша (көк — тракторлар, күлгін — комбайндармен); қызғылт "
        "сары сақиналар — бригада аймағы. Доғалар: жиынтықтар (кіру → зауыт) және машиналар "
        "(зауыт → орталық). Шаруашылықтарға сызықтар: жасыл — тікелей, қызғылт сары — "
        "бригадамен; қызыл нүктелер — қызмет көрсетілмеген шаруашылықтар.",
    ),
    "net_inbound_kits": ("Kits", "Машинокомплекты", "Жиынтықтар"),
    "net_outbound_machines": ("Machines", "Машины", "Машиналар"),
    "net_m_tractor": ("tractors", "тракторов", "трактор"),
    "net_m_combine": ("combines", "комбайнов", "комбайн"),
    "net_per_year": ("year", "год", "жыл"),
    "net_role": ("Role", "Роль", "Рөлі"),
    "net_role_plant": ("Assembly plant", "Сборочный завод", "Құрастыру зауыты"),
    "net_role_centre": ("Service centre", "Сервисный центр", "Сервис орталығы"),
    "net_capability": ("Capability", "Профиль", "Бейіні"),
    "net_cap_tractor": ("tractors only", "только тракторы", "тек тракторлар"),
    "net_cap_tractor+combine": (
        "tractors + combines",
        "тракторы + комбайны",
        "тракторлар + комбайндар",
    ),
    "net_cap_combine": ("combines", "комбайны", "комбайндар"),
    "net_load_year": (
        "Service hours per year",
        "Часов сервиса в год",
        "Жылына сервис сағаттары",
    ),
    "net_van_hours": ("of which by van, h", "из них бригадами, ч", "оның ішінде бригадамен, сағ"),
    "net_peak_util": (
        "Peak-week utilisation",
        "Загрузка в пиковую неделю",
        "Шың аптасындағы жүктелу",
    ),
    "net_year_opened": ("Opened in", "Открыт в", "Ашылған жылы"),
    "net_made": ("Assembles", "Собирает", "Құрастырады"),
    "net_breakdown": (
        "Objective breakdown over the horizon",
        "Структура целевой функции за горизонт",
        "Кезеңдегі мақсат функциясының құрылымы",
    ),
    "net_bn_kzt": ("bn KZT", "млрд тг", "млрд тг"),
    "net_c_plant_fixed_kzt": ("Plants (fixed)", "Заводы (пост.)", "Зауыттар (тұрақты)"),
    "net_c_centre_fixed_kzt": ("Centres (fixed)", "Центры (пост.)", "Орталықтар (тұрақты)"),
    "net_c_combine_capability_kzt": (
        "Combine capability",
        "Сервис комбайнов",
        "Комбайн сервисі",
    ),
    "net_c_van_kzt": ("Vans", "Бригады", "Бригадалар"),
    "net_c_inbound_kits_kzt": (
        "Kits inbound (rail)",
        "Машинокомплекты (ж/д)",
        "Жиынтықтар (теміржол)",
    ),
    "net_c_outbound_machines_kzt": (
        "Delivery plant → centre",
        "Доставка завод → центр",
        "Жеткізу зауыт → орталық",
    ),
    "net_c_direct_import_kzt": ("Direct import", "Прямой импорт", "Тікелей импорт"),
    "net_c_service_travel_kzt": ("Service travel", "Поездки сервиса", "Сервис сапарлары"),
    "net_c_unserved_penalty_kzt": (
        "Unserved penalty",
        "Штраф за необслуженное",
        "Қызмет көрсетілмегені үшін айыппұл",
    ),
    "net_per_year_title": ("Per planning year", "По годам плана", "Жоспар жылдары бойынша"),
    "net_year": ("Year", "Год", "Жыл"),
    "net_new_plants": ("New plants", "Новые заводы", "Жаңа зауыттар"),
    "net_new_centres": ("New centres", "Новые центры", "Жаңа орталықтар"),
    "net_new_machines": (
        "New Belarus machines",
        "Новых белорусских машин",
        "Жаңа беларусь машиналары",
    ),
    "net_renewal": ("Renewal, %", "Обновление, %", "Жаңарту, %"),
    "net_cost_bn": ("Cost, bn KZT", "Затраты, млрд тг", "Шығын, млрд тг"),
    "net_weekly_title": (
        "Week-by-week load",
        "Понедельная загрузка",
        "Апта бойынша жүктеме",
    ),
    "net_centre_pick": (
        "Service centre (peak-week utilisation)",
        "Сервисный центр (загрузка в пиковую неделю)",
        "Сервис орталығы (шың аптасындағы жүктелу)",
    ),
    "net_no_centres": (
        "No service centre is open in this year.",
        "В этом году нет открытых центров.",
        "Бұл жылы ашық орталық жоқ.",
    ),
    "net_direct_load": ("Direct load", "Прямая загрузка", "Тікелей жүктеме"),
    "net_van_load": ("Van load", "Загрузка бригад", "Бригада жүктемесі"),
    "net_capacity": (
        "Capacity (centre + vans)",
        "Мощность (центр + бригады)",
        "Қуат (орталық + бригадалар)",
    ),
    "net_direct_capacity": ("Centre capacity", "Мощность центра", "Орталық қуаты"),
    "net_week": ("Week", "Неделя", "Апта"),
    "net_hours_week": ("service h/week", "сервисных ч/нед", "сервис сағ/апта"),
    "net_heatmap": (
        "Utilisation by week, % ({year}, busiest centres)",
        "Загрузка по неделям, % ({year}, самые загруженные центры)",
        "Апта бойынша жүктелу, % ({year}, ең жүктелген орталықтар)",
    ),
    "net_openings_title": (
        "Sites open in the last year and when they opened",
        "Площадки последнего года и год открытия",
        "Соңғы жылдың алаңдары және ашылған жылы",
    ),
    "net_download": (
        "Download all files (ZIP)",
        "Скачать все файлы (ZIP)",
        "Барлық файлдарды жүктеу (ZIP)",
    ),
    "net_download_note": (
        "The same files as `planner solve two_echelon --out DIR`: summary.json, sites.csv, "
        "assignments.csv, weekly_load.csv, flows.csv, recommendations.gpkg, scenario.toml.",
        "Те же файлы, что пишет `planner solve two_echelon --out DIR`: summary.json, sites.csv, "
        "assignments.csv, weekly_load.csv, flows.csv, recommendations.gpkg, scenario.toml.",
        "`planner solve two_echelon --out DIR` жазатын файлдар: summary.json, sites.csv, "
        "assignments.csv, weekly_load.csv, flows.csv, recommendations.gpkg, scenario.toml.",
    ),
    # Sign-in, single-user mode, sharing, audit (planner/ui/auth.py, planner/ui/workspace.py)
    "sign_in_title": ("Sign in", "Вход", "Кіру"),
    "sign_in_text": (
        "This planner is shared by a team. Your scenarios and uploaded files are private to "
        "you unless you share them. Sign in with your organisation's account.",
        "Этим планировщиком пользуется команда. Ваши сценарии и загруженные файлы видны только "
        "вам, пока вы не поделитесь ими. Войдите с учётной записью вашей организации.",
        "Бұл жоспарлаушыны топ пайдаланады. Сценарийлеріңіз бен жүктелген файлдарыңызды "
        "бөліспейінше тек сіз көресіз. Ұйымыңыздың тіркелгісімен кіріңіз.",
    ),
    "sign_in": ("Sign in", "Войти", "Кіру"),
    "sign_in_with": ("Sign in with {provider}", "Войти через {provider}", "{provider} арқылы кіру"),
    "signed_in_as": ("Signed in as {who}", "Вы вошли как {who}", "Сіз {who} ретінде кірдіңіз"),
    "sign_out": ("Sign out", "Выйти", "Шығу"),
    "single_user": (
        "Single-user mode: no login, reachable from this computer only (127.0.0.1).",
        "Однопользовательский режим: без входа, доступен только с этого компьютера (127.0.0.1).",
        "Бір пайдаланушы режимі: кірусіз, тек осы компьютерден қолжетімді (127.0.0.1).",
    ),
    "no_login_banner": (
        "No login (started with --no-login): everyone who can reach this server shares one "
        "workspace and can see, change and delete every scenario and uploaded file. Configure "
        "login for a shared deployment (README, 'Shared deployment').",
        "Без входа (запущено с --no-login): все, кто может открыть этот сервер, работают в "
        "одной рабочей области и могут видеть, менять и удалять любые сценарии и загруженные "
        "файлы. Для общей установки настройте вход (README, «Shared deployment»).",
        "Кірусіз (--no-login арқылы іске қосылған): осы серверге қол жеткізе алатындардың "
        "бәрі бір жұмыс аймағын пайдаланады және кез келген сценарийді, жүктелген файлды көріп, "
        "өзгертіп, жоя алады. Ортақ орнату үшін кіруді баптаңыз (README, «Shared deployment»).",
    ),
    "local_only": (
        "This planner has no login configured, so it only serves the computer it runs on. "
        "Ask the administrator to configure login.",
        "Для этого планировщика вход не настроен, поэтому он доступен только на компьютере, "
        "где запущен. Попросите администратора настроить вход.",
        "Бұл жоспарлаушыда кіру бапталмаған, сондықтан ол тек іске қосылған компьютерде "
        "қолжетімді. Әкімшіден кіруді баптауды сұраңыз.",
    ),
    "storage_used": (
        "Storage: {used} MB used of {quota} MB",
        "Хранилище: занято {used} МБ из {quota} МБ",
        "Қойма: {quota} МБ-тан {used} МБ пайдаланылды",
    ),
    "share_with": (
        "Share read-only with (e-mail, or * for everyone signed in)",
        "Открыть только для чтения (e-mail или * для всех вошедших)",
        "Тек оқуға ашу (e-mail немесе кірген барлығы үшін *)",
    ),
    "share": ("Share", "Поделиться", "Бөлісу"),
    "unshare": ("Stop sharing", "Закрыть доступ", "Бөлісуді тоқтату"),
    "shared_with": (
        "Shared read-only with: {who}",
        "Доступ для чтения: {who}",
        "Оқуға ашық: {who}",
    ),
    "not_shared": ("Not shared.", "Доступ не открыт.", "Ешкіммен бөлісілмеген."),
    "share_who_missing": (
        "Choose a scenario and type an e-mail (or *) first.",
        "Сначала выберите сценарий и введите e-mail (или *).",
        "Алдымен сценарийді таңдап, e-mail (немесе *) енгізіңіз.",
    ),
    "shared_ok": (
        "`{name}` is shared read-only with {who}.",
        "`{name}` открыт для чтения: {who}.",
        "`{name}` оқуға ашылды: {who}.",
    ),
    "unshared_ok": (
        "`{name}` is no longer shared with {who}.",
        "Доступ к `{name}` для {who} закрыт.",
        "`{name}` енді {who} үшін ашық емес.",
    ),
    "shared_with_me": ("Shared with me", "Доступные мне", "Маған ашылғандар"),
    "shared_by": ("shared by {who}", "от {who}", "{who} бөлісті"),
    "open_read_only": ("Open", "Открыть", "Ашу"),
    "duplicate_to_mine": ("Copy to mine", "Копировать себе", "Өзіме көшіру"),
    "copied_ok": (
        "Copied into your workspace as `{name}`.",
        "Скопировано в вашу рабочую область как `{name}`.",
        "Жұмыс аймағыңызға `{name}` ретінде көшірілді.",
    ),
    "audit_trail": ("Audit trail", "Журнал действий", "Әрекеттер журналы"),
    "audit_at": ("When (UTC)", "Когда (UTC)", "Қашан (UTC)"),
    "audit_who": ("Who", "Кто", "Кім"),
    "audit_action": ("Action", "Действие", "Әрекет"),
    "audit_what": ("Scenario or file", "Сценарий или файл", "Сценарий немесе файл"),
    "audit_detail": ("Detail", "Подробности", "Толығырақ"),
    "query_bad_id": (
        "`{value}` is not a scenario id (a whole number).",
        "`{value}` — не номер сценария (нужно целое число).",
        "`{value}` сценарий нөмірі емес (бүтін сан керек).",
    ),
}


STRINGS: Mapping[str, tuple[str, str, str]] = MappingProxyType(_STRINGS)


def lang() -> str:
    """Return the language chosen in the sidebar (``"en"`` until chosen)."""
    value = st.session_state.get(state.LANG, "en")
    return value if value in LANGUAGES else "en"


def t(key: str, lang_: str | None = None, **fmt: Any) -> str:  # noqa: ANN401
    """Return the text for ``key`` in the current language (or ``lang_``).

    Format functions of widgets must pass ``lang_`` captured when the widget is drawn, so that
    a language switch never changes how an already-drawn widget formats its options.
    """
    en, ru, kk = STRINGS[key]
    text = {"en": en, "ru": ru, "kk": kk}[lang_ or lang()] or en
    return text.format(**fmt) if fmt else text


def status_label(value: Any) -> str:  # noqa: ANN401
    """Return a solver status (``optimal``, ``feasible``, …) in the current language.

    Unknown values are returned as text, escaped for markdown.
    """
    key = f"status_{value}"
    return t(key) if key in STRINGS else md(value)


def labeller(fn: Callable[[Any, str], str]) -> Callable[[Any], str]:
    """Bind the current language to a widget's format function.

    The language is captured when the widget is drawn, so a language switch never changes how
    an already-drawn widget formats its options (which would break its value mapping).
    """
    lg = lang()
    return lambda value: fn(value, lg)


def name_column() -> str:
    """Column of place names in the current language (``name_en``/``name_ru``/``name_kk``)."""
    return NAME_COLUMN[lang()]


def num(value: Any, digits: int = 0) -> str:  # noqa: ANN401
    """Format a number in the current language."""
    return format_number(value, lang(), digits)


def pct(value: Any, digits: int = 1) -> str:  # noqa: ANN401
    """Format a 0..1 share as a percentage in the current language."""
    return format_share(value, lang(), digits)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def md(text: Any) -> str:  # noqa: ANN401
    """Escape user-supplied text for Streamlit markdown (no links, images or HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
