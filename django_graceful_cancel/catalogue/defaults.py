"""The shipped catalogue: reasons and offers, and the message copy written for each reason.

**Reasons and offers** are loaded by ``manage.py graceful_cancel_load_catalogue``. Their labels are
plain data (not gettext strings) because they become database rows that staff edit; each row
carries its Spanish, German and French text in ``translations``.

**Message copy** is code: gettext strings the message templates show (docs/messages.md).
``REASON_COPY`` holds, per reason slug, the sentences written for that reason, by slot:

* ``heard``: what we heard, on the offer page and in the confirmation;
* ``routed``: who hears it; shown only when a ``FEEDBACK_ROUTES`` route exists for the reason;
* ``thanks``: what we heard, in the thank-you;
* ``ask``: what to tell us in the survey;
* ``recall``: what they told us, in the win-back; ``subject``: the win-back's subject.

A reason has copy of its own for a stage when it has that stage's main slot (``STAGE_SLOTS``);
where a stage has nothing worth saying for a reason, the slot is left out and the message says
less. ``COMMON_COPY`` holds the sentences of the frames every reason shares.

Every sentence that speaks to the customer exists in both registers, as ``pgettext`` contexts
``"informal"`` (tú, du, tu) and ``"formal"`` (usted, Sie, vous); ``GRACEFUL_CANCEL
["FORMAL_REGISTER"]`` chooses one per language. In English the two are the same text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.utils.functional import Promise
from django.utils.translation import npgettext_lazy, pgettext_lazy


class Say(NamedTuple):
    """One sentence in both registers."""

    #: tú, du, tu (gettext context "informal").
    informal: Promise | str
    #: usted, Sie, vous (gettext context "formal").
    formal: Promise | str


#: The message stages, in the order a customer meets them.
STAGES = ("flow_message", "confirmation", "thank_you", "survey", "winback")

#: Per stage: the name templates use (``copy.<name>``) -> the slot of ``REASON_COPY`` it reads.
#: The first is the stage's main slot: a reason that has it has copy of its own for the stage.
STAGE_SLOTS: dict[str, dict[str, str]] = {
    "flow_message": {"heard": "heard", "routed": "routed"},
    "confirmation": {"heard": "heard", "routed": "routed"},
    "thank_you": {"heard": "thanks", "routed": "routed"},
    "survey": {"ask": "ask"},
    "winback": {"heard": "recall", "subject": "subject"},
}

#: Slots that make a claim, with the context variable that must be true for them to be shown.
CLAIM_SLOTS: dict[str, str] = {"routed": "feedback_routed"}

REASONS: list[dict[str, Any]] = [
    {
        "slug": "price",
        "category": "price",
        "label": "It costs too much for what I get",
        "follow_up_question": "What price would feel fair to you?",
        "es": {
            "label": "Cuesta demasiado para lo que recibo",
            "follow_up_question": "¿Qué precio te parecería justo?",
        },
        "de": {
            "label": "Es kostet zu viel für das, was ich bekomme",
            "follow_up_question": "Welcher Preis wäre für Sie fair?",
        },
        "fr": {
            "label": "Le prix est trop élevé pour ce que je reçois",
            "follow_up_question": "Quel prix vous semblerait juste ?",
        },
    },
    {
        "slug": "quality",
        "category": "product",
        "label": "The product or service quality is not good enough",
        "follow_up_question": "What did not work as it should?",
        "es": {
            "label": "La calidad del producto o del servicio no es suficiente",
            "follow_up_question": "¿Qué no funcionó como debería?",
        },
        "de": {
            "label": "Die Qualität des Produkts oder Service reicht nicht aus",
            "follow_up_question": "Was hat nicht so funktioniert, wie es sollte?",
        },
        "fr": {
            "label": "La qualité du produit ou du service est insuffisante",
            "follow_up_question": "Quel aspect ne fonctionnait pas comme prévu ?",
        },
    },
    {
        "slug": "customer-service",
        "category": "service",
        "label": "Customer service did not help me",
        "follow_up_question": "What problem was left unsolved?",
        "es": {
            "label": "El servicio de atención al cliente no me ayudó",
            "follow_up_question": "¿Qué problema quedó sin resolver?",
        },
        "de": {
            "label": "Der Kundenservice hat mir nicht geholfen",
            "follow_up_question": "Welches Problem ist ungelöst geblieben?",
        },
        "fr": {
            "label": "Le service client ne résolvait pas mes problèmes",
            "follow_up_question": "Quel problème est resté sans solution ?",
        },
    },
    {
        "slug": "missing-features",
        "category": "product",
        "label": "The product stands still: it lacks features I need",
        "follow_up_question": "Which feature would have made you stay?",
        "es": {
            "label": "El producto no avanza: le faltan funciones que necesito",
            "follow_up_question": "¿Qué función te habría hecho quedarte?",
        },
        "de": {
            "label": "Das Produkt entwickelt sich nicht weiter: Mir fehlen Funktionen, die ich "
            "brauche",
            "follow_up_question": "Welche Funktion hätte Sie zum Bleiben bewegt?",
        },
        "fr": {
            "label": "Le produit stagne : il me manque des fonctionnalités essentielles",
            "follow_up_question": "Quelle fonctionnalité vous aurait fait rester ?",
        },
    },
    {
        "slug": "poor-communication",
        "category": "communication",
        "label": "Communication was poor or not transparent",
        "follow_up_question": "What should we have told you?",
        "es": {
            "label": "La comunicación fue mala o poco transparente",
            "follow_up_question": "¿Qué deberíamos haberte contado?",
        },
        "de": {
            "label": "Die Kommunikation war schlecht oder nicht transparent",
            "follow_up_question": "Was hätten wir Ihnen sagen sollen?",
        },
        "fr": {
            "label": "La communication était insuffisante ou peu transparente",
            "follow_up_question": "Quelle information vous a manqué ?",
        },
    },
    {
        "slug": "unmet-expectations",
        "category": "product",
        "label": "It did not meet my expectations",
        "follow_up_question": "What did you expect that you did not get?",
        "es": {
            "label": "No cumplió mis expectativas",
            "follow_up_question": "¿Qué esperabas que no recibiste?",
        },
        "de": {
            "label": "Es hat meine Erwartungen nicht erfüllt",
            "follow_up_question": "Was haben Sie erwartet und nicht bekommen?",
        },
        "fr": {
            "label": "Le service était en deçà de mes attentes",
            "follow_up_question": "Quelles attentes sont restées sans réponse ?",
        },
    },
    {
        "slug": "no-longer-needed",
        "category": "circumstances",
        "label": "I no longer need it",
        "es": {"label": "Ya no lo necesito"},
        "de": {"label": "Ich brauche es nicht mehr"},
        "fr": {"label": "Ce service ne me sert plus"},
    },
    {
        "slug": "competitor",
        "category": "competition",
        "label": "I am switching to another provider",
        "follow_up_question": "What does the other provider offer that we do not?",
        "es": {
            "label": "Me cambio a otro proveedor",
            "follow_up_question": "¿Qué ofrece el otro proveedor que nosotros no?",
        },
        "de": {
            "label": "Ich wechsle zu einem anderen Anbieter",
            "follow_up_question": "Was bietet der andere Anbieter, was wir nicht bieten?",
        },
        "fr": {
            "label": "Je passe chez un autre prestataire",
            "follow_up_question": "Que propose cet autre prestataire que nous ne proposons pas ?",
        },
    },
    {
        "slug": "temporary",
        "category": "circumstances",
        "label": "I only need a break for a while",
        "es": {"label": "Solo necesito un descanso por un tiempo"},
        "de": {"label": "Ich brauche nur eine Zeit lang eine Pause"},
        "fr": {"label": "Je veux juste faire une pause pendant quelque temps"},
    },
    {
        "slug": "technical-problems",
        "category": "product",
        "label": "Technical problems got in my way",
        "follow_up_question": "What went wrong?",
        "es": {
            "label": "Los problemas técnicos me lo impidieron",
            "follow_up_question": "¿Qué falló?",
        },
        "de": {
            "label": "Technische Probleme standen mir im Weg",
            "follow_up_question": "Was ist schiefgelaufen?",
        },
        "fr": {
            "label": "Des problèmes techniques me gênaient",
            "follow_up_question": "Quel problème avez-vous rencontré ?",
        },
    },
    {
        "slug": "business-closed",
        "category": "circumstances",
        "label": "My business is closing",
        "offer_allowed": False,
        "es": {"label": "Mi negocio cierra"},
        "de": {"label": "Ich gebe mein Geschäft auf"},
        "fr": {"label": "Mon entreprise ferme ses portes"},
    },
    {
        "slug": "other",
        "category": "other",
        "label": "Something else",
        "follow_up_question": "Tell us in your own words, if you like.",
        "es": {
            "label": "Otro motivo",
            "follow_up_question": "Cuéntanoslo con tus palabras, si quieres.",
        },
        "de": {
            "label": "Etwas anderes",
            "follow_up_question": "Erzählen Sie es uns gern mit Ihren Worten.",
        },
        "fr": {
            "label": "Autre chose",
            "follow_up_question": "Dites-le-nous avec vos propres mots, si vous le souhaitez.",
        },
    },
]

#: Follow-up questions shipped for some reasons (reason slug -> questions in order), loaded with
#: the reasons (``ReasonQuestion``). A question's ``key`` and its choices' keys are stable: the
#: figures and exports use them. Each language holds ``prompt`` and the choices' labels by key.
QUESTIONS: dict[str, list[dict[str, Any]]] = {
    "price": [
        {
            "key": "price-fit",
            "kind": "choice",
            "prompt": "Which comes closest?",
            "choices": [
                {"key": "little-use", "label": "I do not use it enough for the price"},
                {"key": "cheaper-elsewhere", "label": "I found something cheaper"},
                {"key": "budget", "label": "My budget has changed"},
            ],
            "es": {
                "prompt": "¿Qué se acerca más a tu caso?",
                "choices": {
                    "little-use": "No lo uso lo suficiente para lo que cuesta",
                    "cheaper-elsewhere": "Encontré algo más barato",
                    "budget": "Mi presupuesto ha cambiado",
                },
            },
            "de": {
                "prompt": "Was trifft am ehesten zu?",
                "choices": {
                    "little-use": "Ich nutze es zu wenig für den Preis",
                    "cheaper-elsewhere": "Ich habe etwas Günstigeres gefunden",
                    "budget": "Mein Budget hat sich geändert",
                },
            },
            "fr": {
                "prompt": "Qu'est-ce qui correspond le mieux à votre situation ?",
                "choices": {
                    "little-use": "Je ne l'utilise pas assez pour ce prix",
                    "cheaper-elsewhere": "J'ai trouvé moins cher ailleurs",
                    "budget": "Mon budget a changé",
                },
            },
        },
        {
            "key": "come-back",
            "kind": "likelihood",
            "prompt": "How likely are you to come back one day?",
            "es": {"prompt": "¿Qué probabilidad hay de que vuelvas algún día?"},
            "de": {"prompt": "Wie wahrscheinlich ist es, dass Sie eines Tages zurückkommen?"},
            "fr": {"prompt": "Quelle est la probabilité que vous reveniez un jour ?"},
        },
    ],
    "temporary": [
        {
            "key": "break-length",
            "kind": "choice",
            "prompt": "How long a break do you have in mind?",
            "choices": [
                {"key": "one-month", "label": "About a month"},
                {"key": "few-months", "label": "A few months"},
                {"key": "not-sure", "label": "I do not know yet"},
            ],
            "es": {
                "prompt": "¿Cuánto tiempo de descanso tienes en mente?",
                "choices": {
                    "one-month": "Alrededor de un mes",
                    "few-months": "Unos meses",
                    "not-sure": "Aún no lo sé",
                },
            },
            "de": {
                "prompt": "An wie lange Pause denken Sie?",
                "choices": {
                    "one-month": "Etwa einen Monat",
                    "few-months": "Ein paar Monate",
                    "not-sure": "Das weiß ich noch nicht",
                },
            },
            "fr": {
                "prompt": "Quelle durée de pause envisagez-vous ?",
                "choices": {
                    "one-month": "Environ un mois",
                    "few-months": "Quelques mois",
                    "not-sure": "Je ne sais pas encore",
                },
            },
        },
        {
            "key": "come-back",
            "kind": "likelihood",
            "prompt": "How likely are you to come back one day?",
            "es": {"prompt": "¿Qué probabilidad hay de que vuelvas algún día?"},
            "de": {"prompt": "Wie wahrscheinlich ist es, dass Sie eines Tages zurückkommen?"},
            "fr": {"prompt": "Quelle est la probabilité que vous reveniez un jour ?"},
        },
    ],
    "competitor": [
        {
            "key": "switch-why",
            "kind": "choice",
            "prompt": "What made the other provider the better fit?",
            "choices": [
                {"key": "price", "label": "A lower price"},
                {"key": "features", "label": "Features we do not have"},
                {"key": "service", "label": "Better service"},
                {"key": "bundle", "label": "It comes with something I already use"},
            ],
            "es": {
                "prompt": "¿Qué hizo que el otro proveedor encajara mejor contigo?",
                "choices": {
                    "price": "Un precio más bajo",
                    "features": "Funciones que nosotros no tenemos",
                    "service": "Un servicio mejor",
                    "bundle": "Viene incluido con algo que ya uso",
                },
            },
            "de": {
                "prompt": "Was hat den anderen Anbieter für Sie passender gemacht?",
                "choices": {
                    "price": "Ein niedrigerer Preis",
                    "features": "Funktionen, die wir nicht haben",
                    "service": "Besserer Service",
                    "bundle": "Er ist bei etwas dabei, das ich schon nutze",
                },
            },
            "fr": {
                "prompt": "Qu'est-ce qui rend cet autre prestataire plus adapté pour vous ?",
                "choices": {
                    "price": "Un prix plus bas",
                    "features": "Des fonctionnalités que nous n'avons pas",
                    "service": "Un meilleur service",
                    "bundle": "Il est inclus dans un service que j'utilise déjà",
                },
            },
        },
        {
            "key": "other-provider",
            "kind": "text",
            "prompt": "Which provider, if you do not mind saying?",
            "max_length": 100,
            "es": {"prompt": "¿Qué proveedor, si no te importa decírnoslo?"},
            "de": {"prompt": "Zu welchem Anbieter, wenn Sie es uns verraten möchten?"},
            "fr": {"prompt": "Lequel, si vous voulez bien nous le dire ?"},
        },
    ],
}

OFFERS: list[dict[str, Any]] = [
    {
        "slug": "discount-30-3m",
        "kind": "discount",
        "title": "30% off for the next 3 months",
        "description": "Stay on your plan and pay 30% less for three months. No strings attached.",
        "parameters": {"percent_off": 30, "duration_months": 3},
        "reasons": ["price"],
        "es": {
            "title": "30 % de descuento durante los próximos 3 meses",
            "description": "Sigue con tu plan y paga un 30 % menos durante tres meses. Sin letra pequeña.",
        },
        "de": {
            "title": "30 % Rabatt für die nächsten 3 Monate",
            "description": "Bleiben Sie in Ihrem Tarif und zahlen Sie drei Monate lang 30 % "
            "weniger. Ohne Haken.",
        },
        "fr": {
            "title": "30 % de réduction pendant les 3 prochains mois",
            "description": "Gardez votre formule et payez 30 % de moins pendant trois mois. Sans conditions cachées.",
        },
    },
    {
        "slug": "downgrade-basic",
        "kind": "downgrade",
        "title": "Switch to the Basic plan",
        "description": "Keep your account and data on our cheaper Basic plan.",
        "parameters": {"plan": "basic"},
        "reasons": ["unmet-expectations", "competitor"],
        "es": {
            "title": "Cámbiate al plan Básico",
            "description": "Conserva tu cuenta y tus datos con nuestro plan Básico, más económico.",
        },
        "de": {
            "title": "Wechsel in den Basis-Tarif",
            "description": "Behalten Sie Ihr Konto und Ihre Daten in unserem günstigeren "
            "Basis-Tarif.",
        },
        "fr": {
            "title": "Passez à la formule Basic",
            "description": "Gardez votre compte et vos données avec notre formule Basic, moins chère.",
        },
    },
    {
        "slug": "pause-2m",
        "kind": "pause",
        "title": "Pause for 2 months",
        "description": "Take a break: nothing is charged for two months and your data waits for you.",
        "parameters": {"months": 2},
        "reasons": ["temporary", "no-longer-needed"],
        "es": {
            "title": "Pausa de 2 meses",
            "description": "Tómate un descanso: no se cobra nada durante dos meses y tus datos te esperan.",
        },
        "de": {
            "title": "2 Monate pausieren",
            "description": "Gönnen Sie sich eine Pause: Zwei Monate lang wird nichts berechnet, "
            "und Ihre Daten warten auf Sie.",
        },
        "fr": {
            "title": "Une pause de 2 mois",
            "description": "Faites une pause : aucun prélèvement pendant deux mois, et vos données vous attendent.",
        },
    },
    {
        "slug": "consultation-call",
        "kind": "consultation",
        "title": "A free call with a product specialist",
        "description": "Tell a specialist what is missing; we will show you what is coming and how to get "
        "more from what is there.",
        "parameters": {"minutes": 30},
        "reasons": ["missing-features", "quality", "technical-problems"],
        "es": {
            "title": "Una llamada gratuita con un especialista del producto",
            "description": "Cuéntale a un especialista qué falta; te mostraremos lo que viene y cómo "
            "sacar más partido a lo que ya hay.",
        },
        "de": {
            "title": "Ein kostenloses Gespräch mit einer Fachperson für unser Produkt",
            "description": "Sagen Sie uns, was Ihnen fehlt: Wir zeigen Ihnen, was kommt und wie "
            "Sie mehr aus dem herausholen, was schon da ist.",
        },
        "fr": {
            "title": "Un appel gratuit avec un spécialiste produit",
            "description": "Dites à un spécialiste ce qui vous manque ; nous vous montrerons ce qui arrive et comment mieux profiter de ce qui existe déjà.",
        },
    },
    {
        "slug": "free-premium-3m",
        "kind": "free_feature",
        "title": "Premium support free for 3 months",
        "description": "Priority support with a named contact, free for three months.",
        "parameters": {"feature": "premium-support", "months": 3},
        "reasons": ["customer-service", "poor-communication"],
        "es": {
            "title": "Soporte prémium gratis durante 3 meses",
            "description": "Soporte prioritario con una persona de contacto, gratis durante tres meses.",
        },
        "de": {
            "title": "Premium-Support 3 Monate kostenlos",
            "description": "Bevorzugter Support mit fester Ansprechperson, drei Monate lang "
            "kostenlos.",
        },
        "fr": {
            "title": "Assistance premium offerte pendant 3 mois",
            "description": "Une assistance prioritaire avec un interlocuteur dédié, offerte pendant trois mois.",
        },
    },
    {
        "slug": "extension-1m",
        "kind": "extension",
        "title": "One month on us",
        "description": "We add a free month to your subscription while we make things right.",
        "parameters": {"days": 30},
        "reasons": [],
        "es": {
            "title": "Un mes gratis",
            "description": "Añadimos un mes gratis a tu suscripción mientras lo arreglamos.",
        },
        "de": {
            "title": "Ein Monat geht auf uns",
            "description": "Wir schenken Ihnen einen zusätzlichen Monat, während wir das in "
            "Ordnung bringen.",
        },
        "fr": {
            "title": "Un mois offert",
            "description": "Nous ajoutons un mois gratuit à votre abonnement, le temps de tout remettre en ordre.",
        },
    },
]


# --- Message copy --------------------------------------------------------------------------

#: The frames' sentences, by name (templates read them as ``say.<name>``).
COMMON_COPY: dict[str, Say] = {
    # The offer page (stage ``flow_message``).
    "tenure_years": Say(
        npgettext_lazy(
            "informal",
            "You have been with us for a year, and that means a lot.",
            "You have been with us for %(years)s years, and that means a lot.",
            "years",
        ),
        npgettext_lazy(
            "formal",
            "You have been with us for a year, and that means a lot.",
            "You have been with us for %(years)s years, and that means a lot.",
            "years",
        ),
    ),
    "tenure_months": Say(
        npgettext_lazy(
            "informal",
            "You have been with us for a month.",
            "You have been with us for %(months)s months.",
            "months",
        ),
        npgettext_lazy(
            "formal",
            "You have been with us for a month.",
            "You have been with us for %(months)s months.",
            "months",
        ),
    ),
    "page_generic": Say(
        pgettext_lazy("informal", "Whatever your reason, you can cancel in one click below."),
        pgettext_lazy("formal", "Whatever your reason, you can cancel in one click below."),
    ),
    "offer_intro": Say(
        pgettext_lazy(
            "informal",
            "Before you decide, there is one thing we can offer. If it does not help, cancelling is just as easy.",
        ),
        pgettext_lazy(
            "formal",
            "Before you decide, there is one thing we can offer. If it does not help, cancelling is just as easy.",
        ),
    ),
    "page_ends_later": Say(
        pgettext_lazy(
            "informal", "If you cancel, your %(plan)s plan stays active until %(effective_date)s."
        ),
        pgettext_lazy(
            "formal", "If you cancel, your %(plan)s plan stays active until %(effective_date)s."
        ),
    ),
    "page_ends_today": Say(
        pgettext_lazy("informal", "If you cancel, your %(plan)s plan ends today."),
        pgettext_lazy("formal", "If you cancel, your %(plan)s plan ends today."),
    ),
    # The confirmation (email and receipt).
    "confirmation_subject": Say(
        pgettext_lazy("informal", "Your cancellation is confirmed (%(reference)s)"),
        pgettext_lazy("formal", "Your cancellation is confirmed (%(reference)s)"),
    ),
    "received": Say(
        pgettext_lazy("informal", "We have received your cancellation for %(site)s."),
        pgettext_lazy("formal", "We have received your cancellation for %(site)s."),
    ),
    "their_words": Say(
        pgettext_lazy("informal", "Thank you for telling us in your own words: %(quote)s"),
        pgettext_lazy("formal", "Thank you for telling us in your own words: %(quote)s"),
    ),
    "declaration_intro": Say(
        pgettext_lazy("informal", "You sent this cancellation through our cancellation page:"),
        pgettext_lazy("formal", "You sent this cancellation through our cancellation page:"),
    ),
    "access_until": Say(
        pgettext_lazy("informal", "You keep full access until %(access_until)s."),
        pgettext_lazy("formal", "You keep full access until %(access_until)s."),
    ),
    "keeps_content": Say(
        pgettext_lazy(
            "informal", "Your account and your content are kept after your subscription ends."
        ),
        pgettext_lazy(
            "formal", "Your account and your content are kept after your subscription ends."
        ),
    ),
    "data_rights": Say(
        pgettext_lazy(
            "informal", "You can ask us at any time for a copy of your data, or to erase it."
        ),
        pgettext_lazy(
            "formal", "You can ask us at any time for a copy of your data, or to erase it."
        ),
    ),
    "invite_more": Say(
        pgettext_lazy(
            "informal", "If you would like to tell us more, there are two short questions here:"
        ),
        pgettext_lazy(
            "formal", "If you would like to tell us more, there are two short questions here:"
        ),
    ),
    "reactivate": Say(
        pgettext_lazy(
            "informal", "Changed your mind? Reactivate your subscription with one click:"
        ),
        pgettext_lazy("formal", "Changed your mind? Reactivate your subscription with one click:"),
    ),
    "dispute": Say(
        pgettext_lazy(
            "informal",
            "Did you not send this cancellation? Tell us with one click and our team will look into it:",
        ),
        pgettext_lazy(
            "formal",
            "Did you not send this cancellation? Tell us with one click and our team will look into it:",
        ),
    ),
    "keep_receipt": Say(
        pgettext_lazy("informal", "Keep this email as your receipt."),
        pgettext_lazy("formal", "Keep this email as your receipt."),
    ),
    # The thank-you, and the good-bye package (also on the confirmation page).
    "thank_you_subject": Say(
        pgettext_lazy("informal", "Thank you for your time with %(site)s"),
        pgettext_lazy("formal", "Thank you for your time with %(site)s"),
    ),
    "thanks_time": Say(
        pgettext_lazy(
            "informal", "Thank you for the time you spent with %(site)s on the %(plan)s plan."
        ),
        pgettext_lazy(
            "formal", "Thank you for the time you spent with %(site)s on the %(plan)s plan."
        ),
    ),
    "goodbye_heading": Say(
        pgettext_lazy("informal", "Before you go"),
        pgettext_lazy("formal", "Before you go"),
    ),
    "stays_active": Say(
        pgettext_lazy("informal", "Your subscription stays active until %(access_until)s."),
        pgettext_lazy("formal", "Your subscription stays active until %(access_until)s."),
    ),
    "export_data": Say(
        pgettext_lazy(
            "informal", "Download a copy of your data; the link works until %(export_until)s:"
        ),
        pgettext_lazy(
            "formal", "Download a copy of your data; the link works until %(export_until)s:"
        ),
    ),
    "export_records": Say(
        pgettext_lazy(
            "informal",
            "Download a copy of what we keep about your cancellation; the link works until %(export_until)s:",
        ),
        pgettext_lazy(
            "formal",
            "Download a copy of what we keep about your cancellation; the link works until %(export_until)s:",
        ),
    ),
    "gift_code": Say(
        pgettext_lazy("informal", "If you come back one day, this code is yours: %(code)s"),
        pgettext_lazy("formal", "If you come back one day, this code is yours: %(code)s"),
    ),
    "changed_mind": Say(
        pgettext_lazy("informal", "Changed your mind? Keep your subscription with one click:"),
        pgettext_lazy("formal", "Changed your mind? Keep your subscription with one click:"),
    ),
    # The survey invitation.
    "survey_ask": Say(
        pgettext_lazy(
            "informal",
            "Would you spare a minute to tell us how %(site)s did? Two questions, no account needed.",
        ),
        pgettext_lazy(
            "formal",
            "Would you spare a minute to tell us how %(site)s did? Two questions, no account needed.",
        ),
    ),
    # The win-back.
    "winback_thanks": Say(
        pgettext_lazy("informal", "Thank you again for the time you spent with %(site)s."),
        pgettext_lazy("formal", "Thank you again for the time you spent with %(site)s."),
    ),
    "whats_new_intro": Say(
        pgettext_lazy("informal", "Since you left, this has changed:"),
        pgettext_lazy("formal", "Since you left, this has changed:"),
    ),
    "keep_one_click": Say(
        pgettext_lazy(
            "informal",
            "Your cancellation has not taken effect yet: you can still keep your subscription with one click:",
        ),
        pgettext_lazy(
            "formal",
            "Your cancellation has not taken effect yet: you can still keep your subscription with one click:",
        ),
    ),
    "come_back_account": Say(
        pgettext_lazy(
            "informal", "If you would like to come back, you can subscribe again from your account:"
        ),
        pgettext_lazy(
            "formal", "If you would like to come back, you can subscribe again from your account:"
        ),
    ),
    "last_message": Say(
        pgettext_lazy("informal", "This is the last message we send you about your cancellation."),
        pgettext_lazy("formal", "This is the last message we send you about your cancellation."),
    ),
    "subject_whats_new": Say(
        pgettext_lazy("informal", "What has changed at %(site)s since you left"),
        pgettext_lazy("formal", "What has changed at %(site)s since you left"),
    ),
    # Text messages (SMS, WhatsApp).
    "sms_thanks": Say(
        pgettext_lazy("informal", "%(site)s: thank you for your time with us, %(name)s."),
        pgettext_lazy("formal", "%(site)s: thank you for your time with us, %(name)s."),
    ),
    "sms_changed_mind": Say(
        pgettext_lazy("informal", "Changed your mind?"),
        pgettext_lazy("formal", "Changed your mind?"),
    ),
    "sms_keep": Say(
        pgettext_lazy("informal", "You can still keep your subscription with one click:"),
        pgettext_lazy("formal", "You can still keep your subscription with one click:"),
    ),
}

#: Said to every product reason whose feedback reaches the team that builds the product.
TO_PRODUCT_TEAM = Say(
    pgettext_lazy("informal", "What you told us goes to the team that builds the product."),
    pgettext_lazy("formal", "What you told us goes to the team that builds the product."),
)

#: Copy written for each reason of the shipped catalogue, by slot (see the module doc).
REASON_COPY: dict[str, dict[str, Say]] = {
    "price": {
        "heard": Say(
            pgettext_lazy(
                "informal", "Price matters, and what you pay should feel fair for what you get."
            ),
            pgettext_lazy(
                "formal", "Price matters, and what you pay should feel fair for what you get."
            ),
        ),
        "routed": Say(
            pgettext_lazy("informal", "Your answer goes to the people who set our prices."),
            pgettext_lazy("formal", "Your answer goes to the people who set our prices."),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal",
                "You told us the price did not match what you got from us, and that is worth hearing.",
            ),
            pgettext_lazy(
                "formal",
                "You told us the price did not match what you got from us, and that is worth hearing.",
            ),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal", "If you like, tell us what would have made it worth the price."
            ),
            pgettext_lazy(
                "formal", "If you like, tell us what would have made it worth the price."
            ),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal",
                "When you left %(site)s, you told us it cost more than it was worth to you.",
            ),
            pgettext_lazy(
                "formal",
                "When you left %(site)s, you told us it cost more than it was worth to you.",
            ),
        ),
        "subject": Say(
            pgettext_lazy("informal", "You told us %(site)s did not fit your budget"),
            pgettext_lazy("formal", "You told us %(site)s did not fit your budget"),
        ),
    },
    "quality": {
        "heard": Say(
            pgettext_lazy("informal", "We are sorry the quality was not what it should have been."),
            pgettext_lazy("formal", "We are sorry the quality was not what it should have been."),
        ),
        "routed": TO_PRODUCT_TEAM,
        "thanks": Say(
            pgettext_lazy(
                "informal", "You left because our quality fell short, and we are sorry about that."
            ),
            pgettext_lazy(
                "formal", "You left because our quality fell short, and we are sorry about that."
            ),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal",
                "If you like, tell us where the quality fell short: one example helps more than a score.",
            ),
            pgettext_lazy(
                "formal",
                "If you like, tell us where the quality fell short: one example helps more than a score.",
            ),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal", "When you left %(site)s, you told us the quality was not good enough."
            ),
            pgettext_lazy(
                "formal", "When you left %(site)s, you told us the quality was not good enough."
            ),
        ),
    },
    "customer-service": {
        "heard": Say(
            pgettext_lazy(
                "informal", "We are sorry we did not solve your problem. That is on us, not on you."
            ),
            pgettext_lazy(
                "formal", "We are sorry we did not solve your problem. That is on us, not on you."
            ),
        ),
        "routed": Say(
            pgettext_lazy(
                "informal", "What you told us goes to the people who run our customer service."
            ),
            pgettext_lazy(
                "formal", "What you told us goes to the people who run our customer service."
            ),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal",
                "You left because our customer service did not help you when you needed it. We are sorry.",
            ),
            pgettext_lazy(
                "formal",
                "You left because our customer service did not help you when you needed it. We are sorry.",
            ),
        ),
        "ask": Say(
            pgettext_lazy("informal", "If you like, tell us what happened when you contacted us."),
            pgettext_lazy("formal", "If you like, tell us what happened when you contacted us."),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal",
                "When you left %(site)s, you told us our customer service had let you down.",
            ),
            pgettext_lazy(
                "formal",
                "When you left %(site)s, you told us our customer service had let you down.",
            ),
        ),
    },
    "missing-features": {
        "heard": Say(
            pgettext_lazy(
                "informal", "You need a product that keeps up with you, and ours did not."
            ),
            pgettext_lazy("formal", "You need a product that keeps up with you, and ours did not."),
        ),
        "routed": Say(
            pgettext_lazy(
                "informal",
                "What you told us is missing goes to the people who decide what we build next.",
            ),
            pgettext_lazy(
                "formal",
                "What you told us is missing goes to the people who decide what we build next.",
            ),
        ),
        "thanks": Say(
            pgettext_lazy("informal", "You left because something you needed was missing."),
            pgettext_lazy("formal", "You left because something you needed was missing."),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal", "If you like, tell us which feature would have made the difference."
            ),
            pgettext_lazy(
                "formal", "If you like, tell us which feature would have made the difference."
            ),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal", "When you left %(site)s, you told us something you needed was missing."
            ),
            pgettext_lazy(
                "formal", "When you left %(site)s, you told us something you needed was missing."
            ),
        ),
    },
    "poor-communication": {
        "heard": Say(
            pgettext_lazy(
                "informal",
                "We are sorry we did not keep you properly informed. You deserved clearer answers from us.",
            ),
            pgettext_lazy(
                "formal",
                "We are sorry we did not keep you properly informed. You deserved clearer answers from us.",
            ),
        ),
        "routed": Say(
            pgettext_lazy(
                "informal",
                "What you told us goes to the people responsible for how we communicate.",
            ),
            pgettext_lazy(
                "formal", "What you told us goes to the people responsible for how we communicate."
            ),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal",
                "You left because we did not tell you clearly what you needed to know. We are sorry.",
            ),
            pgettext_lazy(
                "formal",
                "You left because we did not tell you clearly what you needed to know. We are sorry.",
            ),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal", "If you like, tell us what we should have told you, and when."
            ),
            pgettext_lazy("formal", "If you like, tell us what we should have told you, and when."),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal",
                "When you left %(site)s, you told us we had not kept you properly informed.",
            ),
            pgettext_lazy(
                "formal",
                "When you left %(site)s, you told us we had not kept you properly informed.",
            ),
        ),
    },
    "unmet-expectations": {
        "heard": Say(
            pgettext_lazy("informal", "We are sorry it did not turn out as you expected."),
            pgettext_lazy("formal", "We are sorry it did not turn out as you expected."),
        ),
        "routed": TO_PRODUCT_TEAM,
        "thanks": Say(
            pgettext_lazy("informal", "You left because we did not live up to what you expected."),
            pgettext_lazy("formal", "You left because we did not live up to what you expected."),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal", "If you like, tell us what you expected that you did not get."
            ),
            pgettext_lazy("formal", "If you like, tell us what you expected that you did not get."),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal", "When you left %(site)s, you told us it did not meet your expectations."
            ),
            pgettext_lazy(
                "formal", "When you left %(site)s, you told us it did not meet your expectations."
            ),
        ),
    },
    "no-longer-needed": {
        "heard": Say(
            pgettext_lazy(
                "informal",
                "Needs change, and that is fine. Thank you for the time you spent with us.",
            ),
            pgettext_lazy(
                "formal",
                "Needs change, and that is fine. Thank you for the time you spent with us.",
            ),
        ),
        "thanks": Say(
            pgettext_lazy("informal", "Needs change, and there is nothing wrong with that."),
            pgettext_lazy("formal", "Needs change, and there is nothing wrong with that."),
        ),
        "ask": Say(
            pgettext_lazy("informal", "If you like, tell us what you used us for."),
            pgettext_lazy("formal", "If you like, tell us what you used us for."),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal", "When you left %(site)s, you told us you no longer needed it."
            ),
            pgettext_lazy("formal", "When you left %(site)s, you told us you no longer needed it."),
        ),
    },
    "competitor": {
        "heard": Say(
            pgettext_lazy(
                "informal", "We respect your choice, and we hope the switch goes smoothly."
            ),
            pgettext_lazy(
                "formal", "We respect your choice, and we hope the switch goes smoothly."
            ),
        ),
        "routed": Say(
            pgettext_lazy(
                "informal",
                "What you told us goes to the people who shape our product and our prices.",
            ),
            pgettext_lazy(
                "formal",
                "What you told us goes to the people who shape our product and our prices.",
            ),
        ),
        "thanks": Say(
            pgettext_lazy("informal", "You chose another provider. We hope it serves you well."),
            pgettext_lazy("formal", "You chose another provider. We hope it serves you well."),
        ),
        "ask": Say(
            pgettext_lazy("informal", "If you like, tell us what the other provider does better."),
            pgettext_lazy("formal", "If you like, tell us what the other provider does better."),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal",
                "When you left %(site)s, you told us you were switching to another provider.",
            ),
            pgettext_lazy(
                "formal",
                "When you left %(site)s, you told us you were switching to another provider.",
            ),
        ),
    },
    "temporary": {
        "heard": Say(
            pgettext_lazy("informal", "Sometimes a break is just what you need."),
            pgettext_lazy("formal", "Sometimes a break is just what you need."),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal", "You told us you only needed a break. We hope it does you good."
            ),
            pgettext_lazy(
                "formal", "You told us you only needed a break. We hope it does you good."
            ),
        ),
        "recall": Say(
            pgettext_lazy("informal", "When you left %(site)s, you told us you needed a break."),
            pgettext_lazy("formal", "When you left %(site)s, you told us you needed a break."),
        ),
    },
    "technical-problems": {
        "heard": Say(
            pgettext_lazy(
                "informal",
                "We are sorry technical problems got in your way. Nobody should have to work around our bugs.",
            ),
            pgettext_lazy(
                "formal",
                "We are sorry technical problems got in your way. Nobody should have to work around our bugs.",
            ),
        ),
        "routed": Say(
            pgettext_lazy(
                "informal", "What you told us goes to the people who fix our technical problems."
            ),
            pgettext_lazy(
                "formal", "What you told us goes to the people who fix our technical problems."
            ),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal", "You left because technical problems got in your way. We are sorry."
            ),
            pgettext_lazy(
                "formal", "You left because technical problems got in your way. We are sorry."
            ),
        ),
        "ask": Say(
            pgettext_lazy(
                "informal", "If you like, tell us what went wrong, and on which device or browser."
            ),
            pgettext_lazy(
                "formal", "If you like, tell us what went wrong, and on which device or browser."
            ),
        ),
        "recall": Say(
            pgettext_lazy(
                "informal",
                "When you left %(site)s, you told us technical problems got in your way.",
            ),
            pgettext_lazy(
                "formal", "When you left %(site)s, you told us technical problems got in your way."
            ),
        ),
    },
    "business-closed": {
        "heard": Say(
            pgettext_lazy(
                "informal",
                "We are sorry to hear your business is closing, and we wish you all the best with what comes next.",
            ),
            pgettext_lazy(
                "formal",
                "We are sorry to hear your business is closing, and we wish you all the best with what comes next.",
            ),
        ),
        "thanks": Say(
            pgettext_lazy(
                "informal",
                "Closing a business is a big step. We wish you well with whatever comes next.",
            ),
            pgettext_lazy(
                "formal",
                "Closing a business is a big step. We wish you well with whatever comes next.",
            ),
        ),
    },
    "other": {
        "heard": Say(
            pgettext_lazy("informal", "Not every reason fits in a list."),
            pgettext_lazy("formal", "Not every reason fits in a list."),
        ),
        "routed": Say(
            pgettext_lazy("informal", "Your answer goes to the people who can act on it."),
            pgettext_lazy("formal", "Your answer goes to the people who can act on it."),
        ),
        "ask": Say(
            pgettext_lazy("informal", "If you like, tell us more about your reason."),
            pgettext_lazy("formal", "If you like, tell us more about your reason."),
        ),
    },
}
