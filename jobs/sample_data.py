"""Deterministic sample inputs for the bundled ``earlyfuse run`` pipeline.

The sample pipeline needs small but realistic inputs of every modality: a
Common-Crawl-like WARC crawl, a JSONL text corpus, an img2dataset shard and a
few video clips. They are generated here instead of being checked in, so the
repository stays small, and the planted problems (duplicates, near-duplicates,
junk pages, missing images) are recorded in ``truth.json`` so tests can score
the pipeline against a known answer.

Every byte except the encoded videos is reproducible: all randomness comes
from ``random.Random`` seeded with fixed strings, dates are constants, gzip
and tar headers carry no timestamps and record ids are uuid5 values.

Usage::

    python -m jobs.sample_data OUTPUT_DIR [--force]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import html
import io
import json
import os
import random
import tarfile
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SEED = "earlyfuse-sample-v1"
TRUTH_VERSION = 1
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://earlyfuse.invalid/sample-data")
WARC_FILES = ("warc/crawl-00000.warc.gz", "warc/crawl-00001.warc.gz")
CRAWL_START = datetime(2026, 1, 1, tzinfo=timezone.utc)

# Languages are keyed by FLORES-200 style codes because that is what the
# pipeline's language-id stage emits; "html" is the <html lang> attribute and
# "cjk" switches length and shingle measures from words to characters.
LANGS = {
    "eng_Latn": {"html": "en", "cjk": False},
    "deu_Latn": {"html": "de", "cjk": False},
    "fra_Latn": {"html": "fr", "cjk": False},
    "spa_Latn": {"html": "es", "cjk": False},
    "ita_Latn": {"html": "it", "cjk": False},
    "rus_Cyrl": {"html": "ru", "cjk": False},
    "ell_Grek": {"html": "el", "cjk": False},
    "arb_Arab": {"html": "ar", "cjk": False},
    "hin_Deva": {"html": "hi", "cjk": False},
    "zho_Hans": {"html": "zh-Hans", "cjk": True},
    "jpn_Jpan": {"html": "ja", "cjk": True},
}

# Good pages per language; English is the largest group (~35% of all pages
# once its duplicates and junk pages are added), as in a real crawl.
GOOD_PAGES = {
    "eng_Latn": 31, "deu_Latn": 7, "fra_Latn": 7, "spa_Latn": 7,
    "ita_Latn": 6, "rus_Cyrl": 6, "ell_Grek": 5, "arb_Arab": 6,
    "hin_Deva": 6, "zho_Hans": 6, "jpn_Jpan": 6,
}
EXACT_DUP_LANGS = ["eng_Latn"] * 3 + ["deu_Latn", "fra_Latn", "rus_Cyrl", "zho_Hans", "arb_Arab"]
NEAR_DUP_LANGS = ["eng_Latn"] * 3 + ["deu_Latn", "spa_Latn", "ita_Latn", "ell_Grek", "hin_Deva"]
NEAR_DUP_MIN_JACCARD = 0.8
NEAR_DUP_EDIT_SHARE = 0.04  # stop splicing once this share of the words is new

# Pages below these lengths would be dropped by any sane quality filter, so
# good pages are always generated above them.
MIN_WORDS = 85
MIN_CJK_CHARS = 260

PAGES_WITH_IMAGES = 22
PAGES_WITH_TWO_IMAGES = 3
MISSING_IMAGES = 6
IMAGE_PAIRS = 20

SENTENCES = {
    "eng_Latn": [
        "Slow-cooked lentil soup tastes even better on the second day, once the spices have had time to settle.",
        "Our guide met us at the harbour before sunrise and explained how the fishing boats divide the morning catch.",
        "Astronomers have detected water vapour in the atmosphere of a planet that orbits a small red dwarf star.",
        "The new tram line has cut the commute from the northern suburbs to the city centre by almost twenty minutes.",
        "After losing the first set, the young tennis player changed her tactics and began attacking the net.",
        "The old stone bridge was built by Roman engineers and still carries local traffic across the river today.",
        "Many people never change the default password on their home router, which makes it an easy target for attackers.",
        "Tomatoes need at least six hours of direct sunlight a day and regular watering during dry spells.",
        "The orchestra opened the evening with a lively overture before moving on to a quiet piano concerto.",
        "Doctors recommend at least thirty minutes of moderate exercise on most days of the week.",
        "If you roast the peppers until their skins turn black, they become sweet and easy to peel.",
        "The night train to the mountains was slow, but the view of the snowy valleys at dawn made up for it.",
        "A team of biologists spent three summers counting the birds that nest on the rocky islands off the coast.",
        "Rents in the old town have risen so quickly that many families have moved to the outskirts.",
        "The local football club celebrated its hundredth anniversary with a match against a team from the neighbouring village.",
        "Historians believe the letters were hidden in the wall of the farmhouse during the war and forgotten for decades.",
        "The company released a software update that fixes the battery drain reported by thousands of users.",
        "Spreading a thick layer of mulch around young shrubs keeps the soil moist and stops weeds from growing.",
        "She learned to play the violin by ear long before she could read a single note of music.",
        "Drinking enough water throughout the day helps the body regulate its temperature and can reduce headaches.",
        "Fresh bread should cool completely on a wire rack before you slice it, otherwise the crumb turns gummy.",
        "We rented bicycles in the morning and followed the canal path all the way to the next town.",
        "The telescope's mirror had to be polished for months before it was precise enough to use.",
        "On Saturday mornings the square fills with market stalls selling cheese, honey and freshly picked vegetables.",
        "The marathon route passes the cathedral, crosses two bridges and finishes in front of the town hall.",
        "Archaeologists found pottery fragments suggesting that the valley was farmed more than four thousand years ago.",
        "Engineers are testing whether small wind turbines on rooftops can power the streetlights in our neighbourhood.",
        "Autumn is the best time to plant tulip bulbs, because they need a cold winter to flower in spring.",
        "The band recorded its latest album in a converted barn, and you can hear the wooden room in every song.",
        "Getting enough sleep is just as important for recovery as the training itself.",
        "My grandmother always added a pinch of cinnamon to the apple pie, and nobody ever guessed her secret.",
        "The ferry leaves every two hours in summer, but in winter there are only three crossings a day.",
        "Researchers measured how quickly the glacier is melting by comparing satellite images taken ten years apart.",
        "The library on the corner now stays open until ten in the evening, which students say has changed their routine.",
        "Coaches say the team's young goalkeeper has improved more this season than anyone expected.",
        "The museum's new exhibition tells the story of the city's textile factories and the women who worked in them.",
        "Volunteer developers maintain much of the code that runs on servers around the world, often without pay.",
        "Lavender grows well in poor, sandy soil and attracts bees to the garden throughout the summer.",
        "The choir rehearses every Thursday evening in the hall behind the church, and new singers are always welcome.",
        "A balanced breakfast with protein and fibre keeps you full for longer than a sugary pastry.",
        "When the rain finally stopped, we climbed to the ridge and could see all the way to the sea.",
        "The city council has promised to plant two thousand trees along the busiest streets over the next five years.",
        "Battery technology has improved so much that electric buses can now run a full day on a single charge.",
        "Prune the roses in late winter, just before the new buds begin to swell.",
        "The festival ended with a free concert in the park that drew thousands of people from across the region.",
    ],
    "deu_Latn": [
        "Eine gute Gemüsesuppe braucht vor allem Zeit, frische Kräuter und eine Prise Geduld.",
        "Im Sommer fahren viele Familien an die Ostsee, um ein paar ruhige Tage am Strand zu verbringen.",
        "Forscher haben herausgefunden, dass manche Bakterien Plastik in wenigen Wochen zersetzen können.",
        "Seit die neue Buslinie fährt, kommen die Schüler aus den Dörfern viel schneller in die Stadt.",
        "Der Verein hat am Wochenende sein Heimspiel knapp mit zwei zu eins gewonnen.",
        "Die mittelalterliche Burg über dem Tal wurde im neunzehnten Jahrhundert aufwendig restauriert.",
        "Viele Menschen nutzen für alle ihre Konten dasselbe Passwort, obwohl Fachleute dringend davon abraten.",
        "Tomaten sollte man nicht über die Blätter gießen, sondern direkt an der Wurzel.",
        "Das Konzert im alten Rathaussaal war schon Wochen im Voraus ausverkauft.",
        "Regelmäßige Spaziergänge an der frischen Luft stärken das Herz und verbessern die Stimmung.",
        "Für einen saftigen Apfelkuchen braucht man säuerliche Äpfel, Butter und etwas Zimt.",
        "Mit dem Nachtzug kann man am Abend in Berlin einsteigen und am nächsten Morgen in Wien frühstücken.",
        "Die Sonde hat erstmals Bilder von der Rückseite des kleinen Mondes zur Erde geschickt.",
        "In der Innenstadt sollen bald mehr Radwege entstehen, dafür fallen einige Parkplätze weg.",
        "Nach ihrer Verletzung musste die Läuferin fast ein ganzes Jahr auf Wettkämpfe verzichten.",
        "Im Stadtarchiv liegen noch tausende Briefe aus dem achtzehnten Jahrhundert, die niemand gelesen hat.",
        "Das neue Betriebssystem läuft auch auf älteren Rechnern erstaunlich flüssig.",
        "Im Herbst ist die beste Zeit, um Obstbäume zu pflanzen, weil der Boden dann noch warm ist.",
        "Der junge Pianist spielte die Sonate so ruhig und klar, dass im Saal niemand zu husten wagte.",
        "Wer abends auf den Bildschirm verzichtet, schläft oft schneller ein und wacht erholter auf.",
        "Beim Brotbacken ist die Temperatur des Wassers wichtiger, als die meisten Anfänger glauben.",
        "Der Wanderweg führt durch dichten Buchenwald bis zu einem kleinen See am Fuß des Berges.",
        "Nach Ansicht vieler Fachleute wird die Erwärmung der Meere die Fischbestände deutlich verändern.",
        "Auf dem Wochenmarkt bekommt man im Frühling den ersten Spargel aus der Region.",
        "Die Mannschaft trainiert dreimal pro Woche, auch wenn es regnet oder schneit.",
        "Die Stadtmauer wurde im Jahr 1450 gebaut, um die Händler vor Überfällen zu schützen.",
        "Immer mehr Firmen speichern ihre Daten in Rechenzentren, die mit Ökostrom betrieben werden.",
        "Kompost aus Küchenabfällen ist ein hervorragender Dünger für den Gemüsegarten.",
        "Im Chor singen Menschen aus ganz verschiedenen Berufen, vom Bäcker bis zur Ärztin.",
        "Ein Glas Wasser vor jeder Mahlzeit hilft vielen Menschen, weniger zu essen.",
        "Die Bibliothek hat ihre Öffnungszeiten verlängert und bietet jetzt auch Kurse für Senioren an.",
        "Am Abend saßen wir auf der Terrasse und hörten dem Regen auf dem Dach zu.",
        "Die Ausstellung zeigt, wie sich das Leben der Bauern in der Region über zwei Jahrhunderte verändert hat.",
    ],
    "fra_Latn": [
        "Pour réussir une bonne ratatouille, il faut cuire chaque légume séparément avant de les réunir.",
        "Nous avons pris le train de nuit pour Nice et nous sommes arrivés au bord de la mer au lever du soleil.",
        "Des chercheurs ont découvert une nouvelle espèce de grenouille dans une forêt humide de Guyane.",
        "La mairie a décidé de fermer la rue principale aux voitures tous les dimanches matin.",
        "L'équipe locale a remporté le match grâce à un but marqué dans les dernières minutes.",
        "Le château a été construit au douzième siècle pour surveiller la vallée et la route commerciale.",
        "Il est conseillé de mettre à jour son téléphone régulièrement pour corriger les failles de sécurité.",
        "Les tomates aiment la chaleur, mais elles ont besoin d'un arrosage régulier au pied.",
        "Le festival de jazz attire chaque été des musiciens venus du monde entier.",
        "Marcher trente minutes par jour suffit déjà à réduire le risque de maladies cardiaques.",
        "Ma grand-mère préparait la pâte à crêpes la veille pour qu'elle repose toute la nuit.",
        "Depuis le sommet, on aperçoit les lacs, les villages et, par temps clair, le mont Blanc.",
        "Le télescope spatial a photographié une galaxie dont la lumière a voyagé pendant des milliards d'années.",
        "Dans notre quartier, une ancienne usine a été transformée en ateliers pour les artistes.",
        "La cycliste a terminé l'étape de montagne avec plus de deux minutes d'avance sur ses rivales.",
        "Les archives de la ville contiennent des registres de naissance qui remontent au seizième siècle.",
        "De nombreuses entreprises encouragent désormais le télétravail deux jours par semaine.",
        "Il vaut mieux tailler les rosiers à la fin de l'hiver, quand les grands froids sont passés.",
        "Le violoncelliste a joué les suites de Bach dans une petite église pleine à craquer.",
        "Un sommeil régulier aide le corps à récupérer et améliore la concentration pendant la journée.",
        "Le pain au levain se conserve plusieurs jours s'il est enveloppé dans un torchon propre.",
        "Les ruelles de la vieille ville sont si étroites que les voitures ne peuvent pas y passer.",
        "Les scientifiques observent depuis vingt ans le recul des glaciers dans les Alpes.",
        "Le marché du samedi matin est l'endroit idéal pour acheter du fromage et des fruits de saison.",
        "Le club de rugby organise des entraînements gratuits pour les enfants pendant les vacances.",
        "La révolution industrielle a profondément transformé la vie des ouvriers dans le nord du pays.",
        "Les nouvelles batteries permettent aux voitures électriques de parcourir de plus longues distances.",
        "Un potager bien paillé demande moins d'eau et moins de désherbage pendant l'été.",
        "La chorale du village répète chaque mercredi soir dans la salle des fêtes.",
        "Boire suffisamment d'eau est particulièrement important pendant les vagues de chaleur.",
        "La bibliothèque municipale prête désormais des instruments de musique en plus des livres.",
        "Le soir, les terrasses des cafés se remplissent d'habitants qui profitent de la douceur de l'air.",
    ],
    "spa_Latn": [
        "La paella tradicional se cocina a fuego vivo y no se debe remover una vez que se añade el arroz.",
        "Recorrimos el Camino de Santiago en bicicleta y cada noche dormimos en un albergue diferente.",
        "Un grupo de científicos ha identificado una bacteria capaz de sobrevivir en condiciones extremas.",
        "El ayuntamiento ha ampliado el horario del metro durante los fines de semana.",
        "El equipo remontó el partido en la segunda parte y se clasificó para la final.",
        "La catedral tardó más de dos siglos en construirse y mezcla varios estilos arquitectónicos.",
        "Muchos usuarios no saben que las aplicaciones recopilan datos sobre su ubicación.",
        "Las plantas aromáticas como el romero y el tomillo necesitan poco riego y mucho sol.",
        "La orquesta juvenil ofreció un concierto gratuito en la plaza mayor.",
        "Caminar a paso ligero todos los días mejora la circulación y reduce el estrés.",
        "Mi abuela preparaba el gazpacho con tomates muy maduros, pepino, pimiento y un buen aceite de oliva.",
        "Desde el mirador se puede contemplar todo el valle y los pueblos blancos que lo rodean.",
        "El satélite enviará datos sobre la temperatura de los océanos durante los próximos diez años.",
        "En el barrio antiguo han abierto varias librerías pequeñas y cafeterías con terraza.",
        "La tenista ganó su primer torneo profesional a los diecinueve años.",
        "Los documentos encontrados en el monasterio revelan cómo vivían los monjes en la Edad Media.",
        "La empresa ha desarrollado un programa que traduce la lengua de signos en tiempo real.",
        "El otoño es una buena época para sembrar habas y guisantes en el huerto.",
        "El guitarrista aprendió a tocar flamenco escuchando los discos de su padre.",
        "Dormir al menos siete horas ayuda a mantener un sistema inmunitario fuerte.",
        "Para que el bizcocho quede esponjoso, conviene batir bien los huevos con el azúcar.",
        "El tren que cruza la sierra es lento, pero el paisaje compensa cada minuto del viaje.",
        "Los astrónomos han observado una estrella que cambia de brillo cada pocas horas.",
        "Los vecinos se reúnen cada domingo para limpiar el parque y plantar nuevos árboles.",
        "El ciclista llegó a la meta agotado, pero con una sonrisa enorme.",
        "La ciudad fue un importante puerto comercial durante el siglo dieciséis.",
        "Cada vez más hogares instalan paneles solares en sus tejados para ahorrar en la factura de la luz.",
        "Las hojas secas se pueden convertir en un abono excelente si se dejan descomponer durante el invierno.",
        "El festival de música atrajo a miles de personas de todo el país.",
        "Comer más verduras y menos alimentos procesados es uno de los consejos más repetidos por los médicos.",
        "El mercado central abre muy temprano y a las siete ya está lleno de gente.",
        "Por la noche, las calles del centro se llenan de familias que salen a pasear.",
    ],
    "ita_Latn": [
        "Per preparare un buon risotto bisogna aggiungere il brodo caldo poco alla volta, mescolando con pazienza.",
        "Abbiamo visitato le Cinque Terre in primavera, quando i sentieri non sono ancora affollati.",
        "Un gruppo di ricercatori ha scoperto che alcune piante comunicano attraverso le radici.",
        "Il comune ha deciso di chiudere il centro storico al traffico durante il fine settimana.",
        "La squadra di casa ha vinto la partita con un gol negli ultimi minuti del secondo tempo.",
        "L'anfiteatro romano della città è ancora oggi utilizzato per concerti e spettacoli estivi.",
        "Molti esperti consigliano di usare un gestore di password per proteggere i propri account.",
        "Il basilico cresce bene sul balcone, purché riceva molta luce e non troppa acqua.",
        "Il coro della parrocchia si esibisce ogni anno la notte di Natale.",
        "Fare una passeggiata dopo cena aiuta la digestione e favorisce un sonno tranquillo.",
        "Mia nonna preparava la pasta fresca a mano ogni domenica mattina.",
        "Dal porto partono ogni giorno i traghetti per le isole, anche in inverno.",
        "Il nuovo satellite misurerà con grande precisione lo scioglimento dei ghiacci polari.",
        "Nel quartiere sono stati aperti un mercato coperto e una biblioteca per i ragazzi.",
        "Il giovane ciclista ha conquistato la maglia rosa dopo una tappa di montagna molto dura.",
        "Gli storici hanno ritrovato una mappa del sedicesimo secolo nascosta in un vecchio convento.",
        "L'azienda ha presentato un'applicazione che aiuta gli agricoltori a risparmiare acqua.",
        "In autunno conviene potare gli alberi da frutto e preparare il terreno per l'inverno.",
        "Il violinista ha suonato senza spartito per più di un'ora, incantando il pubblico.",
        "Bere molta acqua durante l'estate è fondamentale, soprattutto per gli anziani.",
        "Il pane cotto nel forno a legna ha una crosta croccante e un profumo inconfondibile.",
        "Il treno regionale attraversa colline coperte di vigneti e piccoli borghi medievali.",
        "Gli astronomi hanno osservato una cometa che tornerà visibile solo tra settant'anni.",
        "Il sabato mattina la piazza si riempie di bancarelle di frutta, formaggi e fiori.",
        "La nazionale di pallavolo si allena in questo palazzetto da oltre dieci anni.",
        "La città fu per secoli un importante centro di commercio tra l'Oriente e l'Europa.",
        "Sempre più scuole utilizzano tablet e lavagne digitali durante le lezioni.",
        "Le rose vanno annaffiate la mattina presto, così le foglie hanno il tempo di asciugarsi.",
        "Il festival del cinema porta ogni anno in città attori e registi da tutto il mondo.",
        "Una dieta ricca di verdure, legumi e pesce è considerata molto salutare dai medici.",
        "La sera le strade del centro si animano e i bar si riempiono di gente.",
        "Il museo ha riaperto le sue sale dopo due anni di restauri.",
    ],
    "rus_Cyrl": [
        "Настоящий борщ варят на крепком бульоне и обязательно дают ему настояться несколько часов.",
        "Летом мы поехали на Байкал и целую неделю жили в деревянном доме на берегу озера.",
        "Учёные обнаружили в древнем льду бактерии, которые оставались живыми тысячи лет.",
        "В центре города открыли новую станцию метро, и дорога на работу стала заметно короче.",
        "Наша хоккейная команда выиграла финальный матч в дополнительное время.",
        "Старинная крепость на холме была построена в шестнадцатом веке для защиты от набегов.",
        "Специалисты советуют не открывать письма с подозрительными ссылками даже от знакомых людей.",
        "Огурцы любят тепло и влагу, поэтому их лучше выращивать в теплице.",
        "Вечером в филармонии выступал молодой пианист, и зал аплодировал ему стоя.",
        "Регулярные прогулки на свежем воздухе укрепляют иммунитет и улучшают сон.",
        "Бабушка всегда пекла пироги с капустой по воскресеньям, и весь дом пах свежим тестом.",
        "Из окна поезда мы видели бесконечные леса, реки и маленькие деревни.",
        "Новый телескоп позволит астрономам изучать атмосферы далёких планет.",
        "Жители района добились того, чтобы на месте пустыря разбили сквер с детской площадкой.",
        "Лыжница завоевала золотую медаль, опередив соперниц почти на минуту.",
        "В городском архиве хранятся письма купцов, написанные более двухсот лет назад.",
        "Многие компании переводят свои сервисы в облако, чтобы сократить расходы.",
        "Осенью садовники сажают чеснок, чтобы весной получить ранний урожай.",
        "Местный хор исполняет народные песни, которые почти забыли в больших городах.",
        "Врачи напоминают, что в жару нужно пить больше воды и избегать прямого солнца.",
        "Чтобы блины получились тонкими, тесто должно быть жидким и без комочков.",
        "Зимой на реке расчищают каток, и туда приходят кататься целыми семьями.",
        "Исследователи уже много лет наблюдают за миграцией китов в северных морях.",
        "По выходным на площади работает ярмарка, где продают мёд, сыр и овощи с местных ферм.",
        "Футбольная школа набирает детей от шести лет, и занятия там бесплатные.",
        "Этот монастырь несколько раз разрушали и восстанавливали за свою долгую историю.",
        "Современные смартфоны умеют переводить речь почти без задержки.",
        "Мульча из соломы помогает сохранить влагу в почве в засушливое лето.",
        "Оркестр готовит новую программу, в которой прозвучат произведения Чайковского и Рахманинова.",
        "Утренняя зарядка помогает быстрее проснуться и настроиться на рабочий день.",
        "Городская библиотека теперь работает до позднего вечера и по воскресеньям.",
        "Вечером набережная наполняется людьми, которые гуляют вдоль реки и смотрят на закат.",
    ],
    "ell_Grek": [
        "Ο καλός μουσακάς χρειάζεται υπομονή, γιατί κάθε στρώση πρέπει να μαγειρευτεί χωριστά.",
        "Το καλοκαίρι ταξιδέψαμε με το πλοίο στις Κυκλάδες και μείναμε σε ένα μικρό χωριό δίπλα στη θάλασσα.",
        "Οι επιστήμονες ανακάλυψαν ένα νέο είδος ψαριού στα βαθιά νερά του Αιγαίου.",
        "Ο δήμος σχεδιάζει να φυτέψει εκατοντάδες δέντρα στους κεντρικούς δρόμους της πόλης.",
        "Η ομάδα μπάσκετ κέρδισε τον αγώνα με ένα καλάθι στο τελευταίο δευτερόλεπτο.",
        "Ο αρχαίος ναός χτίστηκε τον πέμπτο αιώνα προ Χριστού και σώζεται σε πολύ καλή κατάσταση.",
        "Οι ειδικοί συστήνουν να αλλάζουμε τακτικά τους κωδικούς πρόσβασης στους λογαριασμούς μας.",
        "Οι ντομάτες θέλουν πολύ ήλιο και τακτικό πότισμα, ειδικά τους ζεστούς μήνες.",
        "Η συναυλία στο αρχαίο θέατρο ήταν μια αξέχαστη εμπειρία για όλους τους θεατές.",
        "Το καθημερινό περπάτημα βοηθά την καρδιά και μειώνει το άγχος.",
        "Η γιαγιά μου έφτιαχνε πάντα σπανακόπιτα με φύλλο που άνοιγε μόνη της.",
        "Από την κορυφή του βουνού βλέπαμε όλο τον κόλπο και τα νησιά στον ορίζοντα.",
        "Το νέο τηλεσκόπιο θα μελετήσει πλανήτες που βρίσκονται έξω από το ηλιακό μας σύστημα.",
        "Στη γειτονιά μας άνοιξε ένα καινούργιο πάρκο με παιδική χαρά και ποδηλατόδρομο.",
        "Ο νεαρός αθλητής έσπασε το εθνικό ρεκόρ στα εκατό μέτρα.",
        "Οι αρχαιολόγοι βρήκαν αγγεία και νομίσματα κάτω από τα θεμέλια ενός παλιού σπιτιού.",
        "Όλο και περισσότερες επιχειρήσεις χρησιμοποιούν τεχνητή νοημοσύνη για να εξυπηρετούν τους πελάτες τους.",
        "Το φθινόπωρο είναι η καλύτερη εποχή για να φυτέψουμε ελιές και οπωροφόρα δέντρα.",
        "Η χορωδία του σχολείου τραγούδησε παραδοσιακά τραγούδια στη γιορτή της πόλης.",
        "Οι γιατροί λένε ότι ο καλός ύπνος είναι εξίσου σημαντικός με τη σωστή διατροφή.",
        "Το ψωμί που ψήνεται σε ξυλόφουρνο έχει ξεχωριστή γεύση και άρωμα.",
        "Το τρένο διασχίζει τον κάμπο και σταματά σε μικρούς σταθμούς με παλιά πέτρινα κτίρια.",
        "Οι ερευνητές μετρούν κάθε χρόνο τη θερμοκρασία της θάλασσας σε διάφορα βάθη.",
        "Κάθε Σάββατο η λαϊκή αγορά γεμίζει με φρέσκα φρούτα, λαχανικά και τυριά.",
        "Η εθνική ομάδα προπονείται σκληρά για τους επόμενους Ολυμπιακούς Αγώνες.",
        "Η πόλη ήταν για αιώνες σημαντικό λιμάνι για το εμπόριο μεταξύ Ανατολής και Δύσης.",
        "Τα ηλεκτρικά λεωφορεία κυκλοφορούν πλέον σε πολλές γραμμές της πρωτεύουσας.",
        "Ο βασιλικός και η ρίγανη μεγαλώνουν εύκολα σε γλάστρες στο μπαλκόνι.",
        "Το φεστιβάλ μουσικής προσελκύει κάθε χρόνο χιλιάδες επισκέπτες από όλη την Ευρώπη.",
        "Η μεσογειακή διατροφή με ελαιόλαδο, όσπρια και λαχανικά θεωρείται από τις πιο υγιεινές.",
        "Η δημοτική βιβλιοθήκη οργανώνει δωρεάν μαθήματα υπολογιστών για ηλικιωμένους.",
        "Το βράδυ οι κάτοικοι κάθονται στις πλατείες και συζητούν μέχρι αργά.",
    ],
    "arb_Arab": [
        "يحتاج طبق الكبسة إلى بهارات متنوعة وأرز طويل الحبة ولحم مطهو على نار هادئة.",
        "سافرنا في الصيف إلى مدينة ساحلية جميلة وقضينا أسبوعاً كاملاً على الشاطئ.",
        "اكتشف العلماء نوعاً جديداً من النباتات الصحراوية يستطيع العيش دون ماء لأشهر طويلة.",
        "افتتحت البلدية خطاً جديداً للحافلات يربط الأحياء الشمالية بوسط المدينة.",
        "فاز الفريق المحلي بالمباراة بعد هدف رائع في الدقائق الأخيرة.",
        "بنيت هذه القلعة القديمة قبل أكثر من ثمانمئة عام لحماية طرق التجارة.",
        "ينصح الخبراء باستخدام كلمات مرور قوية ومختلفة لكل حساب على الإنترنت.",
        "تحتاج أشجار الزيتون إلى شمس وفيرة وتربة جيدة التصريف.",
        "أحيت الفرقة الموسيقية حفلاً كبيراً في الساحة العامة حضره آلاف الناس.",
        "يساعد المشي اليومي لمدة نصف ساعة على تقوية القلب وتحسين المزاج.",
        "كانت جدتي تعد الخبز في الصباح الباكر، فتملأ رائحته البيت كله.",
        "من أعلى الجبل يمكن رؤية الوادي كله والقرى الصغيرة المنتشرة حول النهر.",
        "سيرسل القمر الصناعي الجديد صوراً دقيقة لسطح الأرض كل يوم.",
        "تحولت المصانع القديمة في الحي إلى مراكز ثقافية ومقاه صغيرة.",
        "حقق العداء الشاب رقماً قياسياً جديداً في سباق المسافات الطويلة.",
        "عثر علماء الآثار على مخطوطات نادرة في مكتبة مسجد قديم.",
        "تعتمد شركات كثيرة اليوم على الحوسبة السحابية لتخزين بياناتها.",
        "يفضل زراعة الطماطم في بداية الربيع بعد انتهاء موجات البرد.",
        "تعلم عازف العود الموسيقى من والده منذ أن كان طفلاً صغيراً.",
        "يؤكد الأطباء أن النوم الكافي ضروري لصحة الجسم والعقل.",
        "لتحضير القهوة العربية يجب تحميص الحبوب جيداً وإضافة قليل من الهيل.",
        "يمر القطار عبر الصحراء الواسعة ثم يصل إلى واحة خضراء مليئة بالنخيل.",
        "يراقب الباحثون درجات حرارة البحر لمعرفة تأثيرها على الشعاب المرجانية.",
        "يمتلئ السوق القديم كل مساء بالباعة والزوار الذين يبحثون عن التوابل والأقمشة.",
        "يتدرب المنتخب الوطني بجد استعداداً للبطولة القادمة.",
        "كانت المدينة في العصور الوسطى مركزاً مهماً للعلم والتجارة.",
        "أصبحت الألواح الشمسية منتشرة على أسطح المنازل في كثير من المدن.",
        "يحتاج النعناع إلى سقي منتظم ويمكن زراعته بسهولة في أصيص صغير.",
        "يجذب مهرجان الفنون كل عام فنانين من مختلف الدول العربية.",
        "ينصح خبراء التغذية بتناول الخضروات والفواكه الطازجة كل يوم.",
        "افتتحت المكتبة العامة قسماً جديداً للأطفال يضم آلاف الكتب المصورة.",
        "في المساء يخرج الناس إلى الكورنيش للتنزه والاستمتاع بنسيم البحر.",
    ],
    "hin_Deva": [
        "अच्छी दाल बनाने के लिए उसे धीमी आँच पर पकाना और अंत में घी का तड़का लगाना ज़रूरी है।",
        "गर्मियों की छुट्टियों में हम पहाड़ों पर गए और एक छोटे से गाँव में ठहरे।",
        "वैज्ञानिकों ने समुद्र की गहराई में रहने वाली एक नई मछली की खोज की है।",
        "शहर में नई मेट्रो लाइन शुरू होने से लोगों का सफ़र काफ़ी आसान हो गया है।",
        "भारतीय टीम ने आख़िरी ओवर में शानदार जीत हासिल की।",
        "यह पुराना किला सोलहवीं शताब्दी में राजा ने अपनी प्रजा की रक्षा के लिए बनवाया था।",
        "विशेषज्ञों का कहना है कि हर खाते के लिए अलग और मज़बूत पासवर्ड रखना चाहिए।",
        "तुलसी का पौधा धूप में अच्छी तरह बढ़ता है और उसे रोज़ थोड़ा पानी चाहिए।",
        "शाम को संगीत समारोह में शास्त्रीय गायकों ने मधुर राग प्रस्तुत किए।",
        "रोज़ सुबह टहलने से शरीर स्वस्थ रहता है और मन भी प्रसन्न रहता है।",
        "मेरी दादी त्योहारों पर हमेशा घर में लड्डू और नमकीन बनाती थीं।",
        "ट्रेन की खिड़की से हमने हरे खेत, नदियाँ और छोटे गाँव देखे।",
        "अंतरिक्ष एजेंसी ने चाँद की सतह की नई तस्वीरें जारी की हैं।",
        "हमारे मोहल्ले में एक नया पार्क बना है जहाँ बच्चे शाम को खेलते हैं।",
        "युवा खिलाड़ी ने राष्ट्रीय प्रतियोगिता में स्वर्ण पदक जीता।",
        "इतिहासकारों को एक पुराने मंदिर में सैकड़ों साल पुरानी पांडुलिपियाँ मिली हैं।",
        "आजकल कई लोग मोबाइल फ़ोन से ही बिजली और पानी के बिल भरते हैं।",
        "सर्दियों में गाजर, मूली और पालक उगाना सबसे अच्छा रहता है।",
        "सितार वादक ने बचपन से ही अपने गुरु के पास संगीत सीखना शुरू किया था।",
        "डॉक्टरों के अनुसार पर्याप्त नींद लेना अच्छे स्वास्थ्य के लिए बहुत आवश्यक है।",
        "मसाला चाय बनाने के लिए अदरक, इलायची और थोड़ी सी दालचीनी डालें।",
        "रेगिस्तान में ऊँट की सवारी करना हमारी यात्रा का सबसे यादगार अनुभव था।",
        "शोधकर्ता हिमालय के ग्लेशियरों के पिघलने की गति को मापने का काम कर रहे हैं।",
        "रविवार को बाज़ार में ताज़ी सब्ज़ियाँ, फल और मसाले ख़रीदने वालों की भीड़ रहती है।",
        "स्कूल की फ़ुटबॉल टीम हर दिन मैदान पर दो घंटे अभ्यास करती है।",
        "यह शहर सदियों तक व्यापार और संस्कृति का एक महत्वपूर्ण केंद्र रहा है।",
        "सौर ऊर्जा के बढ़ते इस्तेमाल से गाँवों में बिजली पहुँचाना आसान हुआ है।",
        "गमलों में पुदीना और धनिया उगाना बहुत आसान है और इसमें ज़्यादा जगह नहीं लगती।",
        "इस साल के संगीत उत्सव में देश भर से कलाकार हिस्सा लेने आए।",
        "ताज़े फल और हरी सब्ज़ियाँ खाने से शरीर को ज़रूरी विटामिन मिलते हैं।",
        "नगर पुस्तकालय ने बच्चों के लिए कहानी सुनाने का एक नया कार्यक्रम शुरू किया है।",
        "शाम होते ही नदी के घाट पर लोग आरती देखने के लिए इकट्ठा होते हैं।",
    ],
    "zho_Hans": [
        "做红烧肉的关键是小火慢炖，让肉充分吸收酱油和冰糖的味道。",
        "去年夏天我们去了云南，在大理的古城里住了一个星期。",
        "科学家在深海发现了一种能够在极端高压下生存的微生物。",
        "新的地铁线路开通以后，从郊区到市中心只需要半个小时。",
        "主队在比赛最后一分钟打进一球，以二比一赢得了比赛。",
        "这座古老的石桥已经有八百多年的历史，至今仍然可以通行。",
        "专家建议大家不要在不同的网站上使用同一个密码。",
        "西红柿喜欢阳光充足的地方，夏天需要每天浇水。",
        "昨晚的音乐会上，年轻的钢琴家演奏了肖邦的夜曲，观众掌声不断。",
        "每天散步半个小时有助于改善睡眠，也能让心情变得更好。",
        "奶奶包的饺子皮薄馅大，每年春节全家人都会围在一起包饺子。",
        "从山顶往下看，整个城市和远处的河流都尽收眼底。",
        "新发射的卫星将用来监测海洋温度和天气变化。",
        "老城区的胡同里开了很多小书店和咖啡馆，吸引了不少年轻人。",
        "这位年轻的运动员在全国比赛中打破了一百米短跑的纪录。",
        "考古学家在一座古墓中发现了大量精美的青铜器。",
        "越来越多的人开始用手机支付，出门几乎不用带现金。",
        "秋天是种植大蒜和菠菜的好时节，来年春天就可以收获。",
        "他从小跟着爷爷学习二胡，现在已经是乐团的首席演奏家。",
        "医生提醒，天气炎热时要多喝水，尽量避免在中午外出。",
        "煮米饭之前先把米泡二十分钟，煮出来的饭会更香更软。",
        "乘坐高铁去上海只要四个多小时，比坐飞机还方便。",
        "研究人员正在观察冰川融化对下游河流的影响。",
        "周末的早市上有新鲜的蔬菜、水果和刚出锅的豆浆油条。",
        "学校的篮球队每天放学后都要在操场上训练两个小时。",
        "这座城市在唐朝时期是丝绸之路上重要的商业中心。",
        "电动汽车的电池技术进步很快，续航里程越来越长。",
        "阳台上种几盆薄荷和葱，做饭的时候随时可以用。",
        "今年的音乐节吸引了来自全国各地的几万名观众。",
        "营养专家建议每天吃足够的蔬菜和水果，少吃油炸食品。",
        "市图书馆新开了一个儿童阅览室，周末总是坐满了孩子和家长。",
        "傍晚的时候，很多老人会在公园里跳广场舞、下象棋。",
    ],
    "jpn_Jpan": [
        "おいしいカレーを作るには、玉ねぎをあめ色になるまでじっくり炒めることが大切です。",
        "夏休みに家族で北海道へ行き、広い牧場でソフトクリームを食べました。",
        "研究チームは、深い海の底で光を出す新しい種類のクラゲを見つけました。",
        "駅の近くに新しい図書館ができて、学生たちが夜まで勉強できるようになりました。",
        "地元の野球チームは、最後の回に逆転して優勝を決めました。",
        "このお城は四百年以上前に建てられ、今も多くの観光客が訪れています。",
        "専門家は、同じパスワードをいくつものサイトで使わないようにと呼びかけています。",
        "ミニトマトはベランダのプランターでも簡単に育てることができます。",
        "昨日のコンサートでは、若いピアニストがショパンの曲をとても美しく弾きました。",
        "毎朝三十分ほど歩くだけでも、体の調子がよくなると言われています。",
        "祖母は毎年お正月になると、手作りのおせち料理を用意してくれました。",
        "山の上からは、町全体と遠くの海がはっきりと見えました。",
        "新しい人工衛星は、地球の気温の変化を毎日観測する予定です。",
        "古い商店街には、小さなパン屋さんや喫茶店が並んでいて、いつもにぎやかです。",
        "その選手は、けがから復帰したあと、初めての大会で金メダルを取りました。",
        "古いお寺の倉庫から、江戸時代の手紙がたくさん見つかりました。",
        "最近は、スマートフォンで電車の切符を買う人がとても増えています。",
        "秋にチューリップの球根を植えておくと、春にきれいな花が咲きます。",
        "彼女は子どものころからバイオリンを習っていて、今はオーケストラで演奏しています。",
        "暑い日は、のどがかわく前にこまめに水を飲むようにしましょう。",
        "お米を炊く前に三十分ほど水につけておくと、ふっくらとしたご飯になります。",
        "新幹線に乗れば、東京から京都まで二時間ちょっとで行くことができます。",
        "研究者たちは、氷河がとけるスピードを人工衛星の写真で調べています。",
        "週末の朝市では、とれたての野菜や果物がとても安く売られています。",
        "サッカー部の生徒たちは、雨の日も休まずに練習を続けています。",
        "この町は、むかし港町として栄え、たくさんの船が行き来していました。",
        "電気自動車の電池はどんどん進化していて、一度の充電で長く走れるようになりました。",
        "庭にハーブを植えておくと、料理にすぐ使えてとても便利です。",
        "夏祭りでは、夜になると花火が上がり、たくさんの人が集まります。",
        "野菜や魚を中心にした食事は、体にやさしいと言われています。",
        "この公園では、春になると桜が満開になり、お花見を楽しむ人でいっぱいになります。",
        "夕方になると、川沿いの道を散歩する人や自転車に乗る人が増えてきます。",
    ],
}

TITLES = {
    "eng_Latn": [
        "Notes From the Old Harbour", "What the Garden Taught Us This Year", "A Week of Small Discoveries",
        "Life in the City, Street by Street", "Weekend Reading: Food, Travel and Science",
        "Stories From Our Neighbourhood", "The Season So Far", "Things We Learned This Month",
        "A Slow Day in Town", "From the Kitchen to the Concert Hall", "Field Notes", "Around the Region",
        "Letters From the Valley", "Small Changes, Big Differences", "On the Road Again", "Market Day",
        "Between Two Rivers", "A Guide for Curious Readers", "The Long Weekend", "Quiet Corners of the City",
    ],
    "deu_Latn": [
        "Notizen aus der Stadt", "Was uns diese Woche bewegt hat", "Ein Tag am Fluss",
        "Geschichten aus der Nachbarschaft", "Zwischen Küche und Konzertsaal", "Unterwegs in der Region",
        "Kleine Entdeckungen", "Der Herbst in unserer Stadt",
    ],
    "fra_Latn": [
        "Carnet de la semaine", "Histoires de notre quartier", "Une journée en ville",
        "De la cuisine à la scène", "Petites découvertes", "Chroniques de la région",
        "Ce que nous avons appris ce mois-ci", "Balade au fil de l'eau",
    ],
    "spa_Latn": [
        "Crónicas del barrio", "Lo que aprendimos este mes", "Un día en la ciudad", "De la cocina al escenario",
        "Pequeños descubrimientos", "Historias de la región", "Notas de viaje", "La semana en breve",
    ],
    "ita_Latn": [
        "Cronache dal quartiere", "Quello che abbiamo imparato questo mese", "Una giornata in città",
        "Dalla cucina al palcoscenico", "Piccole scoperte", "Storie della regione", "Appunti di viaggio",
        "La settimana in breve",
    ],
    "rus_Cyrl": [
        "Заметки о городе", "Что мы узнали за этот месяц", "Один день в городе", "От кухни до концертного зала",
        "Маленькие открытия", "Истории нашего района", "Путевые заметки", "Неделя в кратком изложении",
    ],
    "ell_Grek": [
        "Σημειώσεις από την πόλη", "Τι μάθαμε αυτόν τον μήνα", "Μια μέρα στην πόλη", "Από την κουζίνα στη σκηνή",
        "Μικρές ανακαλύψεις", "Ιστορίες από τη γειτονιά μας", "Ταξιδιωτικές σημειώσεις",
        "Η εβδομάδα με λίγα λόγια",
    ],
    "arb_Arab": [
        "ملاحظات من المدينة", "ما تعلمناه هذا الشهر", "يوم في المدينة", "من المطبخ إلى المسرح",
        "اكتشافات صغيرة", "حكايات من الحي", "مذكرات سفر", "الأسبوع باختصار",
    ],
    "hin_Deva": [
        "शहर से कुछ बातें", "इस महीने हमने क्या सीखा", "शहर में एक दिन", "रसोई से मंच तक",
        "छोटी-छोटी खोजें", "मोहल्ले की कहानियाँ", "यात्रा के नोट्स", "हफ़्ते की ख़बरें",
    ],
    "zho_Hans": [
        "城市笔记", "这个月我们学到了什么", "城里的一天", "从厨房到音乐厅",
        "生活中的小发现", "街坊邻里的故事", "旅行札记", "一周见闻",
    ],
    "jpn_Jpan": [
        "まちのメモ", "今月わかったこと", "まちの一日", "台所からコンサートホールへ",
        "小さな発見", "となり近所の話", "旅のノート", "今週のできごと",
    ],
}

# Short sentences spliced into a copied article to make a near-duplicate: a
# whole inserted sentence disturbs few word 5-grams, so the copy stays above
# the Jaccard threshold while still differing by a few percent of its words.
REMARKS = {
    "eng_Latn": ["Many readers wrote to us about this.", "Local newspapers reported the same story.",
                 "This surprised quite a few people."],
    "deu_Latn": ["Viele Leser haben uns dazu geschrieben.", "Auch die Lokalzeitung hat darüber berichtet.",
                 "Das hat viele Menschen überrascht."],
    "fra_Latn": ["Beaucoup de lecteurs nous ont écrit à ce sujet.", "La presse locale en a aussi parlé.",
                 "Cela a surpris beaucoup de monde."],
    "spa_Latn": ["Muchos lectores nos escribieron sobre esto.", "La prensa local también publicó la noticia.",
                 "Esto sorprendió a mucha gente."],
    "ita_Latn": ["Molti lettori ci hanno scritto a questo proposito.", "Anche i giornali locali ne hanno parlato.",
                 "La cosa ha sorpreso molte persone."],
    "rus_Cyrl": ["Многие читатели написали нам об этом.", "Об этом писали и местные газеты.",
                 "Это удивило многих людей."],
    "ell_Grek": ["Πολλοί αναγνώστες μάς έγραψαν γι' αυτό.", "Το ανέφεραν και οι τοπικές εφημερίδες.",
                 "Αυτό εξέπληξε πολλούς ανθρώπους."],
    "arb_Arab": ["كتب إلينا كثير من القراء عن هذا الموضوع.", "نشرت الصحف المحلية الخبر نفسه.",
                 "فاجأ هذا كثيراً من الناس."],
    "hin_Deva": ["कई पाठकों ने हमें इस बारे में लिखा।", "स्थानीय अख़बारों ने भी यह ख़बर छापी।",
                 "इससे बहुत से लोग हैरान हुए।"],
    "zho_Hans": ["很多读者为此给我们写了信。", "当地报纸也报道了这件事。", "这让很多人感到意外。"],
    "jpn_Jpan": ["多くの読者からこの件についてお便りをいただきました。", "地元の新聞もこのことを伝えました。",
                 "これには多くの人がおどろきました。"],
}

NAV_PATHS = ["/", "/news/", "/travel/", "/food/", "/science/", "/contact/"]

# Per-language page chrome. It is boilerplate an extractor must drop, so it
# is deliberately the same on every page of a site.
CHROME = {
    "eng_Latn": {
        "nav": ["Home", "News", "Travel", "Food", "Science", "Contact"],
        "rights": "All rights reserved.",
        "cookie": "We use cookies to improve your experience on our website.",
        "privacy": "Privacy policy",
        "sites": [("harbour-gazette.example.com", "The Harbour Gazette"),
                  ("greenway-notes.example.org", "Greenway Notes"),
                  ("daily-compass.example.net", "Daily Compass")],
    },
    "deu_Latn": {
        "nav": ["Startseite", "Nachrichten", "Reisen", "Küche", "Wissenschaft", "Kontakt"],
        "rights": "Alle Rechte vorbehalten.",
        "cookie": "Wir verwenden Cookies, um Ihnen die bestmögliche Nutzung unserer Website zu ermöglichen.",
        "privacy": "Datenschutz",
        "sites": [("rheinblick.example.com", "Rheinblick"), ("stadtleben.example.org", "Stadtleben")],
    },
    "fra_Latn": {
        "nav": ["Accueil", "Actualités", "Voyage", "Cuisine", "Sciences", "Contact"],
        "rights": "Tous droits réservés.",
        "cookie": "Nous utilisons des cookies pour améliorer votre expérience sur notre site.",
        "privacy": "Politique de confidentialité",
        "sites": [("le-petit-journal.example.com", "Le Petit Journal"),
                  ("carnet-de-route.example.org", "Carnet de route")],
    },
    "spa_Latn": {
        "nav": ["Inicio", "Noticias", "Viajes", "Cocina", "Ciencia", "Contacto"],
        "rights": "Todos los derechos reservados.",
        "cookie": "Utilizamos cookies para mejorar su experiencia en nuestro sitio web.",
        "privacy": "Política de privacidad",
        "sites": [("diario-del-sur.example.com", "Diario del Sur"), ("mesa-y-camino.example.org", "Mesa y Camino")],
    },
    "ita_Latn": {
        "nav": ["Home", "Notizie", "Viaggi", "Cucina", "Scienza", "Contatti"],
        "rights": "Tutti i diritti riservati.",
        "cookie": "Utilizziamo i cookie per migliorare la tua esperienza sul nostro sito.",
        "privacy": "Informativa sulla privacy",
        "sites": [("gazzetta-del-borgo.example.com", "Gazzetta del Borgo"),
                  ("vita-in-citta.example.org", "Vita in città")],
    },
    "rus_Cyrl": {
        "nav": ["Главная", "Новости", "Путешествия", "Кухня", "Наука", "Контакты"],
        "rights": "Все права защищены.",
        "cookie": "Мы используем файлы cookie, чтобы сделать сайт удобнее для вас.",
        "privacy": "Политика конфиденциальности",
        "sites": [("gorodskie-novosti.example.com", "Городские новости"),
                  ("severny-zhurnal.example.org", "Северный журнал")],
    },
    "ell_Grek": {
        "nav": ["Αρχική", "Ειδήσεις", "Ταξίδια", "Κουζίνα", "Επιστήμη", "Επικοινωνία"],
        "rights": "Με επιφύλαξη παντός δικαιώματος.",
        "cookie": "Χρησιμοποιούμε cookies για να βελτιώσουμε την εμπειρία σας στον ιστότοπο.",
        "privacy": "Πολιτική απορρήτου",
        "sites": [("kathimerini-matia.example.com", "Καθημερινή Ματιά"),
                  ("aigaio-simera.example.org", "Αιγαίο Σήμερα")],
    },
    "arb_Arab": {
        "nav": ["الرئيسية", "أخبار", "سفر", "مطبخ", "علوم", "اتصل بنا"],
        "rights": "جميع الحقوق محفوظة.",
        "cookie": "نستخدم ملفات تعريف الارتباط لتحسين تجربتك على موقعنا.",
        "privacy": "سياسة الخصوصية",
        "sites": [("akhbar-almadina.example.com", "أخبار المدينة"), ("nafitha.example.org", "نافذة")],
    },
    "hin_Deva": {
        "nav": ["होम", "समाचार", "यात्रा", "रसोई", "विज्ञान", "संपर्क"],
        "rights": "सर्वाधिकार सुरक्षित।",
        "cookie": "हम आपके अनुभव को बेहतर बनाने के लिए कुकीज़ का उपयोग करते हैं।",
        "privacy": "गोपनीयता नीति",
        "sites": [("nagar-samachar.example.com", "नगर समाचार"), ("safarnama.example.org", "सफ़रनामा")],
    },
    "zho_Hans": {
        "nav": ["首页", "新闻", "旅游", "美食", "科学", "联系我们"],
        "rights": "版权所有。",
        "cookie": "本网站使用Cookie以改善您的浏览体验。",
        "privacy": "隐私政策",
        "sites": [("chengshi-ribao.example.com", "城市日报"), ("shenghuo-biji.example.org", "生活笔记")],
    },
    "jpn_Jpan": {
        "nav": ["ホーム", "ニュース", "旅行", "料理", "科学", "お問い合わせ"],
        "rights": "無断転載を禁じます。",
        "cookie": "当サイトでは、利便性向上のためにCookieを使用しています。",
        "privacy": "プライバシーポリシー",
        "sites": [("machi-shimbun.example.com", "まち新聞"), ("kurashi-note.example.org", "くらしノート")],
    },
}

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
    "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex "
    "ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu "
    "fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt "
    "mollit anim id est laborum."
)

SPAM_KEYWORDS = {
    "eng_Latn": ["cheap flights", "best price", "buy now", "free shipping", "hotel deals", "discount code",
                 "cheap hotels", "lowest price", "online deals", "limited offer"],
    "fra_Latn": ["vol pas cher", "meilleur prix", "livraison gratuite", "promo", "achat en ligne",
                 "hôtel pas cher", "code promo", "soldes", "offre limitée", "prix bas"],
}

# Junk pages: (reason, text language, host, site name). "lat_Latn" and
# "zxx_Zyyy" (no linguistic content) record what the text really is, even
# though those pages sit on English-language sites.
LOW_QUALITY = [
    ("short", "eng_Latn", "daily-compass.example.net", "Daily Compass"),
    ("keyword_spam", "eng_Latn", "best-deals-now.example.net", "Best Deals Now"),
    ("repeated_lines", "eng_Latn", "download-center.example.com", "Download Center"),
    ("link_list", "eng_Latn", "web-directory.example.org", "Web Directory"),
    ("numbers", "eng_Latn", "stock-feed.example.net", "Stock Feed"),
    ("lorem_ipsum", "lat_Latn", "new-theme-demo.example.com", "Theme Demo"),
    ("symbols", "zxx_Zyyy", "ascii-wall.example.org", "ASCII Wall"),
    ("short", "deu_Latn", "stadtleben.example.org", "Stadtleben"),
    ("keyword_spam", "fra_Latn", "promo-voyages.example.net", "Promo Voyages"),
    ("repeated_lines", "rus_Cyrl", "skachat-besplatno.example.com", "Скачать бесплатно"),
    ("link_list", "spa_Latn", "directorio-web.example.org", "Directorio Web"),
    ("short", "jpn_Jpan", "kurashi-note.example.org", "くらしノート"),
]

SHORT_TEXTS = {
    "eng_Latn": ("Coming soon", "This page is under construction. Please check back later."),
    "deu_Latn": ("Seite im Aufbau", "Diese Seite ist noch im Aufbau."),
    "jpn_Jpan": ("準備中", "このページは現在準備中です。"),
}
REPEATED_LINES = {
    "eng_Latn": "Click here to download the latest version for free.",
    "rus_Cyrl": "Нажмите здесь, чтобы скачать бесплатно.",
}
LINK_LABELS = {"eng_Latn": "Category", "spa_Latn": "Categoría"}

PALETTE = {
    "red": (220, 50, 47), "orange": (240, 140, 30), "yellow": (245, 210, 60), "green": (60, 170, 80),
    "teal": (40, 160, 160), "blue": (50, 100, 210), "purple": (130, 70, 180), "pink": (235, 120, 170),
    "white": (245, 245, 245), "black": (25, 25, 25), "navy": (20, 40, 90), "grey": (128, 128, 128),
}
SHAPES = ("circle", "square", "triangle", "diamond")

# Non-English captions stay generic so they never need gender or case
# agreement with colour names.
FOREIGN_CAPTIONS = {
    "deu_Latn": "Abstrakte Grafik mit {n} geometrischen Formen auf einem Farbverlauf.",
    "fra_Latn": "Illustration abstraite avec {n} formes géométriques sur un fond dégradé.",
    "spa_Latn": "Ilustración abstracta con {n} formas geométricas sobre un fondo degradado.",
    "jpn_Jpan": "グラデーションの背景に{n}個の図形が描かれた抽象的なイラスト。",
}

DOC_LANGS = (["eng_Latn"] * 12 + ["deu_Latn"] * 4 + ["fra_Latn"] * 4 + ["spa_Latn"] * 4 + ["ita_Latn"] * 3
             + ["rus_Cyrl"] * 3 + ["zho_Hans"] * 2 + ["jpn_Jpan"] * 2 + ["arb_Arab"] * 2 + ["ell_Grek"])

VIDEOS = [
    {"file": "video/clip-00.mp4", "codec": "libx264", "seconds": 3, "shape": "circle", "color": "red",
     "bg": ("navy", "blue"), "path": "left_to_right", "subtitles": True},
    {"file": "video/clip-01.mp4", "codec": "libx264", "seconds": 4, "shape": "square", "color": "yellow",
     "bg": ("green", "teal"), "path": "bounce", "subtitles": False},
    {"file": "video/clip-02.webm", "codec": "libvpx-vp9", "seconds": 2, "shape": "triangle", "color": "white",
     "bg": ("purple", "pink"), "path": "right_to_left", "subtitles": False},
]
VIDEO_SIZE = (320, 240)
VIDEO_FPS = 24

# 3x5 bitmap digits so the frame counter looks the same on every machine,
# independent of which fonts Pillow finds.
DIGITS = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
}


@dataclass
class Page:
    url: str
    lang: str
    kind: str
    title: str
    host: str
    site: str
    chrome_lang: str
    paragraphs: list[list[str]] = field(default_factory=list)
    extra_blocks: list[tuple] = field(default_factory=list)  # non-paragraph bodies of junk pages
    images: list[tuple[int, str]] = field(default_factory=list)  # (insert after paragraph i, url)
    dup_of: str | None = None
    reason: str | None = None
    jaccard: float | None = None
    file: str = ""


# --------------------------------------------------------------------------- text


def _rng(*parts: object) -> random.Random:
    """One independent stream per output, so editing one generator never shifts another's data."""
    return random.Random(":".join([SEED, *map(str, parts)]))


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if LANGS.get(lang, {}).get("cjk") else " ").join(sentences)


def _text_length(lang: str, sentences: list[str]) -> int:
    if LANGS[lang]["cjk"]:
        return sum(len(s) for s in sentences)
    return sum(len(s.split()) for s in sentences)


def _min_length(lang: str) -> int:
    return MIN_CJK_CHARS if LANGS[lang]["cjk"] else MIN_WORDS


def _shingles(lang: str, text: str, n: int = 5) -> set[tuple[str, ...]]:
    tokens = [c for c in text if not c.isspace()] if LANGS[lang]["cjk"] else text.lower().split()
    return {tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))}


def jaccard_5gram(lang: str, a: str, b: str) -> float:
    sa, sb = _shingles(lang, a), _shingles(lang, b)
    return len(sa & sb) / len(sa | sb)


def _paragraph_sizes(rng: random.Random, n: int) -> list[int]:
    # At least two sentences per paragraph: a one-sentence paragraph would
    # recur verbatim across pages and trip line-level dedup by accident.
    k = rng.randint(3, min(5, n // 2))
    sizes = [2] * k
    for _ in range(n - 2 * k):
        sizes[rng.randrange(k)] += 1
    return sizes


class ArticleComposer:
    """Samples articles from the sentence pools, never reusing a paragraph."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[tuple[str, tuple[int, ...]]] = set()

    def article(self, lang: str, n_min: int = 8, n_max: int = 14, min_len: int | None = None) -> list[list[str]]:
        pool = SENTENCES[lang]
        min_len = _min_length(lang) if min_len is None else min_len
        for _ in range(200):
            order = self.rng.sample(range(len(pool)), len(pool))
            n = self.rng.randint(n_min, n_max)
            while n < len(pool) and _text_length(lang, [pool[i] for i in order[:n]]) < min_len:
                n += 1
            groups, start = [], 0
            for size in _paragraph_sizes(self.rng, n):
                groups.append(tuple(order[start:start + size]))
                start += size
            keys = {(lang, g) for g in groups}
            if keys & self.used:
                continue
            self.used |= keys
            return [[pool[i] for i in g] for g in groups]
        raise RuntimeError(f"sentence pool for {lang} too small for unique paragraphs")


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c.lower() if c.isalnum() else " " for c in ascii_title).split()
    return "-".join(words) or "article"


def _page_url(host: str, title: str, lang: str, number: int) -> str:
    slug = _slug(title) if lang.endswith("_Latn") else "article"
    section = NAV_PATHS[1 + number % 4].strip("/")
    return f"https://{host}/{section}/2025/12/{slug}-{number:04d}.html"


# --------------------------------------------------------------------------- pages


def _good_pages(rng: random.Random, composer: ArticleComposer) -> list[Page]:
    pages = []
    for lang, count in GOOD_PAGES.items():
        # Deal titles like cards so a headline repeats as rarely as possible.
        titles: list[str] = []
        for _ in range(count):
            if not titles:
                titles = rng.sample(TITLES[lang], len(TITLES[lang]))
            host, site = rng.choice(CHROME[lang]["sites"])
            title = titles.pop()
            number = len(pages)
            pages.append(Page(url=_page_url(host, title, lang, number), lang=lang, kind="good", title=title,
                              host=host, site=site, chrome_lang=lang, paragraphs=composer.article(lang)))
    return pages


def _attach_images(rng: random.Random, pages: list[Page]) -> tuple[list[dict], list[str]]:
    """Place <img> references between paragraphs; returns (images stored in the WARC, missing urls)."""
    chosen = rng.sample(pages, PAGES_WITH_IMAGES)
    slots = []
    for i, page in enumerate(chosen):
        wanted = 2 if i < PAGES_WITH_TWO_IMAGES else 1
        gaps = rng.sample(range(len(page.paragraphs) - 1), wanted)
        slots.extend((page, gap) for gap in sorted(gaps))
    missing = set(rng.sample(range(len(slots)), MISSING_IMAGES))
    stored, missing_urls = [], []
    png_count = 0
    for i, (page, gap) in enumerate(slots):
        name = uuid.uuid5(NAMESPACE, f"image:{page.url}:{gap}").hex[:12]
        if i in missing:
            url = f"https://static.{page.host}/img/{name}.jpg"
            missing_urls.append(url)
        else:
            fmt = "png" if len(stored) % 3 == 2 else "jpeg"
            alpha = fmt == "png" and png_count == 0
            png_count += fmt == "png"
            url = f"https://static.{page.host}/img/{name}.{'png' if fmt == 'png' else 'jpg'}"
            img_rng = _rng("warc-image", url)
            width = img_rng.randrange(120, 401, 8)
            height = int(width * img_rng.choice([0.75, 0.5625, 1.0]))
            image, caption = draw_picture(img_rng, width, height, alpha=alpha)
            stored.append({"url": url, "fmt": fmt, "alpha": alpha, "image": image, "alt": caption})
        page.images.append((gap, url))
    return stored, missing_urls


def _exact_dups(rng: random.Random, pages: list[Page]) -> list[Page]:
    """Same article republished on a sister site: only the chrome differs."""
    dups, taken = [], set()
    for lang in EXACT_DUP_LANGS:
        source = rng.choice([p for p in pages if p.lang == lang and p.url not in taken])
        taken.add(source.url)
        host, site = next(s for s in CHROME[lang]["sites"] if s[0] != source.host)
        url = _page_url(host, source.title, lang, 500 + len(dups))
        dups.append(Page(url=url, lang=lang, kind="exact_dup", title=source.title, host=host, site=site,
                         chrome_lang=lang, paragraphs=[list(p) for p in source.paragraphs],
                         images=list(source.images), dup_of=source.url))
    return dups


def _near_dups(rng: random.Random, pages: list[Page], exclude: set[str]) -> list[Page]:
    """Copies with one or two remark sentences spliced in (a few percent of the words)."""
    dups = []
    for lang in NEAR_DUP_LANGS:
        source = rng.choice([p for p in pages if p.lang == lang and p.url not in exclude])
        exclude.add(source.url)
        original = _article_text(source)
        paragraphs = [list(p) for p in source.paragraphs]
        score, added, size = 1.0, 0, _text_length(lang, [original])
        for remark in rng.sample(REMARKS[lang], 2):
            trial = [list(p) for p in paragraphs]
            para = trial[rng.randrange(len(trial))]
            para.insert(rng.randint(1, len(para)), remark)
            trial_score = jaccard_5gram(lang, original, "\n\n".join(_join(lang, p) for p in trial))
            if trial_score < NEAR_DUP_MIN_JACCARD and score < 1.0:
                break
            paragraphs, score = trial, trial_score
            added += _text_length(lang, [remark])
            if added >= NEAR_DUP_EDIT_SHARE * size:
                break
        host, site = rng.choice(CHROME[lang]["sites"])
        url = _page_url(host, source.title, lang, 600 + len(dups))
        dups.append(Page(url=url, lang=lang, kind="near_dup", title=source.title, host=host, site=site,
                         chrome_lang=lang, paragraphs=paragraphs, images=list(source.images),
                         dup_of=source.url, jaccard=round(score, 4)))
    return dups


def _junk_body(rng: random.Random, reason: str, lang: str) -> tuple[str, list[tuple]]:
    if reason == "short":
        title, text = SHORT_TEXTS[lang]
        return title, [("p", text)]
    if reason == "keyword_spam":
        words = SPAM_KEYWORDS[lang]
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 7))) for _ in range(24)]
        return words[0].title(), [("p", line) for line in lines]
    if reason == "repeated_lines":
        return REPEATED_LINES[lang].rstrip(".!"), [("p", REPEATED_LINES[lang])] * 30
    if reason == "link_list":
        label = LINK_LABELS[lang]
        return label, [("ul", [(f"/c/{i}", f"{label} {i}") for i in range(1, 41)])]
    if reason == "numbers":
        rows = [f"SKU {rng.randrange(10000, 99999)} | {rng.randrange(1, 999)}.{rng.randrange(100):02d} | "
                f"{rng.randrange(1, 50)} | 2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                for _ in range(25)]
        return "Price feed", [("p", row) for row in rows]
    if reason == "lorem_ipsum":
        return "Lorem ipsum", [("p", LOREM)] * 3
    if reason == "symbols":
        alphabet = "#$%&*+=|~^<>/\\-_0123456789"
        rows = [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))) for _ in range(10))
                for _ in range(20)]
        return "###", [("p", row) for row in rows]
    raise ValueError(reason)


def _low_quality_pages(rng: random.Random) -> list[Page]:
    pages = []
    for i, (reason, lang, host, site) in enumerate(LOW_QUALITY):
        title, blocks = _junk_body(rng, reason, lang)
        chrome_lang = lang if lang in CHROME else "eng_Latn"
        url = f"https://{host}/page/{700 + i:04d}.html"
        pages.append(Page(url=url, lang=lang, kind="low_quality", title=title, host=host, site=site,
                          chrome_lang=chrome_lang, extra_blocks=blocks, reason=reason))
    return pages


def _article_text(page: Page) -> str:
    return "\n\n".join(_join(page.lang, p) for p in page.paragraphs)


def render_html(page: Page, alts: dict[str, str]) -> str:
    esc = html.escape
    chrome = CHROME[page.chrome_lang]
    lang_attr = LANGS.get(page.chrome_lang, {"html": "en"})["html"]
    direction = ' dir="rtl"' if page.chrome_lang == "arb_Arab" else ""
    nav = "".join(f'<li><a href="{href}">{esc(label)}</a></li>' for href, label in zip(NAV_PATHS, chrome["nav"]))
    body = []
    images_after = {}
    for gap, url in page.images:
        images_after.setdefault(gap, []).append(url)
    for i, para in enumerate(page.paragraphs):
        body.append(f"<p>{esc(_join(page.lang, para))}</p>")
        for url in images_after.get(i, []):
            alt = alts.get(url, "Photo")
            body.append(f'<figure><img src="{esc(url)}" alt="{esc(alt)}"></figure>')
    for block in page.extra_blocks:
        if block[0] == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        else:
            items = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in block[1])
            body.append(f"<ul>{items}</ul>")
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{lang_attr}"{direction}>',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(page.title)} | {esc(page.site)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "</head>",
        "<body>",
        '<header class="site-header">',
        f'<div class="logo"><a href="/">{esc(page.site)}</a></div>',
        f"<nav><ul>{nav}</ul></nav>",
        "</header>",
        "<main>",
        "<article>",
        f"<h1>{esc(page.title)}</h1>",
        *body,
        "</article>",
        "</main>",
        "<footer>",
        f"<p>© 2025 {esc(page.site)}. {esc(chrome['rights'])}</p>",
        f'<p class="cookie-notice">{esc(chrome["cookie"])} <a href="/privacy">{esc(chrome["privacy"])}</a></p>',
        "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines)


def plan_pages() -> tuple[list[Page], list[dict], list[str]]:
    """All pages in crawl order with their WARC file assigned, plus the image plan."""
    rng = _rng("pages")
    composer = ArticleComposer(_rng("articles"))
    good = _good_pages(rng, composer)
    stored_images, missing_urls = _attach_images(_rng("images"), good)
    exact = _exact_dups(rng, good)
    near = _near_dups(rng, good, exclude={p.dup_of for p in exact})
    pages = good + exact + near + _low_quality_pages(rng)
    rng.shuffle(pages)
    half = (len(pages) + 1) // 2
    for i, page in enumerate(pages):
        page.file = WARC_FILES[0] if i < half else WARC_FILES[1]
    return pages, stored_images, missing_urls


# --------------------------------------------------------------------------- WARC


def _sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _record_id(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(NAMESPACE, '|'.join(parts))}>"


def _warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """One record as its own gzip member, so readers can seek to any record like in Common Crawl."""
    head = ["WARC/1.1", *(f"{k}: {v}" for k, v in headers),
            f"WARC-Block-Digest: {_sha1_b32(block)}", f"Content-Length: {len(block)}"]
    raw = "\r\n".join(head).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    return gzip.compress(raw, compresslevel=9, mtime=0)


def _http_exchange(url: str, content_type: str, payload: bytes, when: datetime) -> tuple[bytes, bytes]:
    host, _, path = url.removeprefix("https://").partition("/")
    request = (f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: earlyfuse-sample/1.0\r\n"
               f"Accept: */*\r\nAccept-Encoding: identity\r\n\r\n").encode()
    response = (f"HTTP/1.1 200 OK\r\nDate: {format_datetime(when, usegmt=True)}\r\nServer: nginx\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    return request, response


class WarcWriter:
    """Minimal byte-exact WARC/1.1 writer (warcio would add wall-clock dates and random ids)."""

    def __init__(self, filename: str, day: int):
        self.filename = filename
        self.start = CRAWL_START + timedelta(days=day)
        self.count = 0
        self.info_id = _record_id(filename, "warcinfo")
        fields = ("software: earlyfuse sample_data\r\n"
                  "format: WARC File Format 1.1\r\n"
                  "conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
                  "isPartOf: earlyfuse-sample-crawl\r\n"
                  "description: synthetic crawl for the earlyfuse sample pipeline\r\n")
        self.chunks = [_warc_record([
            ("WARC-Type", "warcinfo"), ("WARC-Date", self._date(self.start)), ("WARC-Filename", Path(filename).name),
            ("WARC-Record-ID", self.info_id), ("Content-Type", "application/warc-fields"),
        ], fields.encode())]

    @staticmethod
    def _date(when: datetime) -> str:
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    def add(self, url: str, content_type: str, payload: bytes) -> None:
        self.count += 1
        when = self.start + timedelta(seconds=7 * self.count)
        request, response = _http_exchange(url, content_type, payload, when)
        request_id = _record_id(self.filename, "request", url)
        common = [("WARC-Date", self._date(when)), ("WARC-Warcinfo-ID", self.info_id), ("WARC-Target-URI", url)]
        self.chunks.append(_warc_record([
            ("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
            ("Content-Type", "application/http; msgtype=request"),
        ], request))
        self.chunks.append(_warc_record([
            ("WARC-Type", "response"), ("WARC-Record-ID", _record_id(self.filename, "response", url)), *common,
            ("WARC-Concurrent-To", request_id), ("WARC-Payload-Digest", _sha1_b32(payload)),
            ("Content-Type", "application/http; msgtype=response"),
        ], response))

    def bytes(self) -> bytes:
        return b"".join(self.chunks)


def _encode_image(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=85)
    else:
        image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def write_warcs(root: Path, pages: list[Page], stored_images: list[dict]) -> list[dict]:
    alts = {img["url"]: img["alt"] for img in stored_images}
    by_url = {img["url"]: img for img in stored_images}
    writers = {name: WarcWriter(name, day) for day, name in enumerate(WARC_FILES)}
    written: list[dict] = []
    for page in pages:
        writer = writers[page.file]
        writer.add(page.url, "text/html; charset=utf-8", render_html(page, alts).encode("utf-8"))
        # An image is crawled right after the first page that links it; dup
        # pages link the same image but it is fetched only once.
        for _, url in page.images:
            img = by_url.get(url)
            if img is None or img.get("file"):
                continue
            img["file"] = page.file
            content_type = "image/png" if img["fmt"] == "png" else "image/jpeg"
            writer.add(url, content_type, _encode_image(img["image"], img["fmt"]))
            written.append({"url": url, "file": page.file, "content_type": content_type,
                            "width": img["image"].width, "height": img["image"].height, "alpha": img["alpha"]})
    for name, writer in writers.items():
        _write(root / name, writer.bytes())
    return written


# --------------------------------------------------------------------------- images


def _gradient(width: int, height: int, start: tuple, end: tuple, vertical: bool) -> np.ndarray:
    steps = np.linspace(0.0, 1.0, height if vertical else width, dtype=np.float32)
    ramp = steps[:, None, None] if vertical else steps[None, :, None]
    a, b = np.array(start, np.float32), np.array(end, np.float32)
    img = a * (1.0 - ramp) + b * ramp
    return np.broadcast_to(img, (height, width, 3)).astype(np.uint8)


def _shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]  # diamond


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill: tuple) -> None:
    box = [cx - r, cy - r, cx + r, cy + r]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon(_shape_points(shape, cx, cy, r), fill=fill)


def _english_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def draw_picture(rng: random.Random, width: int, height: int, alpha: bool = False) -> tuple[Image.Image, str]:
    """Gradient (or transparent) background with 2-4 coloured shapes, and an English caption of it."""
    bg_start, bg_end = rng.sample(sorted(PALETTE), 2)
    vertical = rng.random() < 0.5
    if alpha:
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        background = "a transparent background"
    else:
        image = Image.fromarray(_gradient(width, height, PALETTE[bg_start], PALETTE[bg_end], vertical), "RGB")
        background = f"a {'vertical' if vertical else 'horizontal'} {bg_start} to {bg_end} gradient"
    draw = ImageDraw.Draw(image)
    described = []
    for _ in range(rng.randint(2, 4)):
        shape = rng.choice(SHAPES)
        colour = rng.choice([c for c in sorted(PALETTE) if c not in (bg_start, bg_end)])
        r = rng.uniform(0.08, 0.22) * min(width, height)
        cx, cy = rng.uniform(r, width - r), rng.uniform(r, height - r)
        fill = PALETTE[colour] + ((255,) if alpha else ())
        _draw_shape(draw, shape, cx, cy, r, fill)
        described.append(f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape}")
    caption = f"{_english_list(described).capitalize()} on {background}."
    return image, caption


def _pair_sizes(rng: random.Random) -> list[tuple[int, int]]:
    # Pin both extremes so resize and min-size filters always have work to do.
    sizes = [(64, 48), (800, 600)]
    while len(sizes) < IMAGE_PAIRS:
        width = rng.randrange(64, 801, 16)
        height = max(48, min(600, int(width * rng.choice([0.5, 0.75, 1.0, 1.25]))))
        sizes.append((width, height))
    rng.shuffle(sizes)
    return sizes


def write_image_pairs(root: Path) -> list[dict]:
    rng = _rng("image-pairs")
    foreign = {3: "deu_Latn", 8: "fra_Latn", 13: "spa_Latn", 17: "jpn_Jpan"}
    members: list[tuple[str, bytes]] = []
    meta = []
    for i, (width, height) in enumerate(_pair_sizes(rng)):
        key = f"{i:09d}"
        image, caption = draw_picture(rng, width, height)
        lang = foreign.get(i, "eng_Latn")
        if lang != "eng_Latn":
            caption = FOREIGN_CAPTIONS[lang].format(n=caption.count(" and ") + caption.count(", ") + 1)
        url = f"https://photos.example.net/{uuid.uuid5(NAMESPACE, 'pair:' + key).hex[:16]}.jpg"
        record = {"key": key, "caption": caption, "url": url, "width": width, "height": height,
                  "status": "success", "error_message": None}
        members += [(f"{key}.jpg", _encode_image(image, "jpeg")),
                    (f"{key}.json", json.dumps(record, ensure_ascii=False).encode()),
                    (f"{key}.txt", caption.encode())]
        meta.append({"key": key, "lang": lang, "width": width, "height": height})
    _write(root / "images" / "pairs-00000.tar", _tar_bytes(members))
    return meta


def _tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# --------------------------------------------------------------------------- docs


def write_docs(root: Path) -> list[dict]:
    rng = _rng("docs")
    composer = ArticleComposer(_rng("doc-articles"))
    docs = []
    for lang in DOC_LANGS:
        paragraphs = composer.article(lang, n_min=6, n_max=10, min_len=_min_length(lang) * 3 // 4)
        docs.append({"lang": lang, "kind": "good", "dup_of": None,
                     "text": "\n\n".join(_join(lang, p) for p in paragraphs)})
    spam = " ".join(rng.choice(SPAM_KEYWORDS["eng_Latn"]) for _ in range(60))
    docs.append({"lang": "eng_Latn", "kind": "low_quality", "reason": "keyword_spam", "dup_of": None,
                 "text": spam})
    docs.append({"lang": "eng_Latn", "kind": "low_quality", "reason": "short", "dup_of": None,
                 "text": "Click here."})
    rng.shuffle(docs)
    # The copy goes after its source so "first occurrence wins" dedup keeps the original.
    source_index = rng.choice([i for i, d in enumerate(docs[:-10]) if d["kind"] == "good"])
    source = docs[source_index]
    copy = dict(source, kind="exact_dup")
    docs.insert(rng.randint(source_index + 1, len(docs)), copy)
    for i, doc in enumerate(docs):
        doc["id"] = f"doc-{i:05d}"
    copy["dup_of"] = source["id"]
    lines = []
    for doc in docs:
        short_lang = LANGS[doc["lang"]]["html"].split("-")[0]
        doc["url"] = f"https://docs.example.org/{short_lang}/{doc['id']}"
        lines.append(json.dumps({"id": doc["id"], "url": doc["url"], "text": doc["text"]}, ensure_ascii=False))
    _write(root / "docs" / "docs.jsonl", ("\n".join(lines) + "\n").encode())
    return [{k: d[k] for k in ("id", "lang", "kind", "dup_of")} | ({"reason": d["reason"]} if "reason" in d else {})
            for d in docs]


# --------------------------------------------------------------------------- video


def _draw_counter(draw: ImageDraw.ImageDraw, number: int, x: int, y: int, scale: int = 5) -> None:
    for digit in str(number):
        for row, bits in enumerate(DIGITS[digit]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    x0, y0 = x + col * scale, y + row * scale
                    draw.rectangle([x0, y0, x0 + scale - 1, y0 + scale - 1], fill=(255, 255, 255))
        x += 4 * scale


def _shape_position(path: str, t: float, width: int, height: int, r: int) -> tuple[float, float]:
    if path == "left_to_right":
        return -r + t * (width + 2 * r), height / 2
    if path == "right_to_left":
        return width + r - t * (width + 2 * r), height * 0.6
    # Bounce: two diagonal sweeps reflected at the walls.
    phase = (2 * t) % 2.0
    u = phase if phase <= 1 else 2 - phase
    return r + u * (width - 2 * r), r + abs(np.sin(np.pi * 2 * t)) * (height - 2 * r)


def _video_frames(spec: dict):
    width, height = VIDEO_SIZE
    background = _gradient(width, height, PALETTE[spec["bg"][0]], PALETTE[spec["bg"][1]], vertical=True)
    total = spec["seconds"] * VIDEO_FPS
    for i in range(total):
        image = Image.fromarray(background.copy(), "RGB")
        draw = ImageDraw.Draw(image)
        cx, cy = _shape_position(spec["path"], i / (total - 1), width, height, 30)
        _draw_shape(draw, spec["shape"], cx, cy, 30, PALETTE[spec["color"]])
        _draw_counter(draw, i, 10, 10)
        yield image


def _video_description(spec: dict) -> str:
    motion = {"left_to_right": "moves from left to right", "right_to_left": "moves from right to left",
              "bounce": "bounces between the edges of the frame"}[spec["path"]]
    frames = spec["seconds"] * VIDEO_FPS
    return (f"A {spec['color']} {spec['shape']} {motion} over a {spec['bg'][0]} to {spec['bg'][1]} gradient "
            f"while a white frame counter in the top-left corner counts from 0 to {frames - 1}. "
            f"The clip lasts {spec['seconds']} seconds and has no audio.")


VTT_CUES = [
    ("00:00:00.000", "00:00:01.000", "A red ball enters from the left."),
    ("00:00:01.000", "00:00:02.000", "It rolls across the blue background."),
    ("00:00:02.000", "00:00:03.000", "The ball leaves on the right side."),
]


def _encode_video(path: Path, spec: dict) -> None:
    import av  # deferred: the native library is only needed for this step

    path.parent.mkdir(parents=True, exist_ok=True)
    if spec["codec"] == "libx264":
        # x264's macroblock-tree pass made the output vary from run to run
        # (measured under CPU load even with one thread); without it the
        # bitstream is reproducible at a negligible cost for synthetic clips.
        options = {"preset": "veryfast", "crf": "26", "x264-params": "mbtree=0"}
    else:
        options = {"deadline": "realtime", "cpu-used": "8", "crf": "36", "b": "0"}
    # bitexact keeps muxers from writing encoder versions and creation dates.
    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(spec["codec"], rate=VIDEO_FPS, options=options)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1  # threaded encoders are not reproducible
        for i, image in enumerate(_video_frames(spec)):
            frame = av.VideoFrame.from_image(image)
            frame.pts, frame.time_base = i, Fraction(1, VIDEO_FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_videos(root: Path) -> list[dict]:
    entries = []
    for spec in VIDEOS:
        path = root / spec["file"]
        _encode_video(path, spec)
        description = _video_description(spec)
        _write(path.with_suffix(".txt"), (description + "\n").encode())
        subtitles = None
        if spec["subtitles"]:
            cues = "\n".join(f"{i}\n{a} --> {b}\n{text}\n" for i, (a, b, text) in enumerate(VTT_CUES, 1))
            subtitles = str(Path(spec["file"]).with_suffix(".vtt"))
            _write(root / subtitles, f"WEBVTT\n\n{cues}".encode())
        entries.append({
            "file": spec["file"], "codec": "h264" if spec["codec"] == "libx264" else "vp9",
            "width": VIDEO_SIZE[0], "height": VIDEO_SIZE[1], "fps": VIDEO_FPS, "duration_s": spec["seconds"],
            "frames": spec["seconds"] * VIDEO_FPS, "description": description,
            "text_file": str(Path(spec["file"]).with_suffix(".txt")), "subtitles": subtitles,
        })
    return entries


# --------------------------------------------------------------------------- entry point


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _page_truth(page: Page) -> dict:
    entry = {"url": page.url, "file": page.file, "lang": page.lang, "kind": page.kind, "dup_of": page.dup_of,
             "images": [url for _, url in page.images]}
    if page.reason:
        entry["reason"] = page.reason
    if page.jaccard is not None:
        entry["jaccard_5gram"] = page.jaccard
    return entry


def generate_sample_inputs(root: str | os.PathLike, force: bool = False) -> dict:
    """Create the sample inputs under root (idempotent: if root/'truth.json' exists and not force,
    return its parsed content without regenerating). Returns the truth dict (also written to
    root/'truth.json', written LAST)."""
    root = Path(root)
    truth_path = root / "truth.json"
    if truth_path.exists() and not force:
        return json.loads(truth_path.read_text(encoding="utf-8"))
    root.mkdir(parents=True, exist_ok=True)

    pages, stored_images, missing_urls = plan_pages()
    warc_images = write_warcs(root, pages, stored_images)
    docs = write_docs(root)
    pairs = write_image_pairs(root)
    videos = write_videos(root)

    truth = {
        "version": TRUTH_VERSION,
        "seed": SEED,
        "pages": [_page_truth(p) for p in pages],
        "image_urls_in_warc": sorted(img["url"] for img in warc_images),
        "missing_image_urls": sorted(missing_urls),
        "warc_images": warc_images,
        "docs": docs,
        "image_pairs": len(pairs),
        "image_pair_langs": {p["key"]: p["lang"] for p in pairs if p["lang"] != "eng_Latn"},
        "videos": videos,
    }
    # truth.json is the completion marker: it is written last and atomically,
    # so an interrupted run is regenerated instead of being trusted.
    tmp = truth_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, truth_path)
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the earlyfuse sample pipeline inputs.")
    parser.add_argument("folder", help="output folder")
    parser.add_argument("--force", action="store_true", help="regenerate even if truth.json exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    truth = generate_sample_inputs(args.folder, force=args.force)
    kinds: dict[str, int] = {}
    for page in truth["pages"]:
        kinds[page["kind"]] = kinds.get(page["kind"], 0) + 1
    print(f"{args.folder}: {len(truth['pages'])} pages {kinds}, {len(truth['docs'])} docs, "
          f"{truth['image_pairs']} image pairs, {len(truth['videos'])} videos "
          f"({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()
