"""Default reasons and offers, loaded by ``manage.py graceful_cancel_load_catalogue``.

Labels are plain data (not gettext strings) because they become database rows that staff edit;
each row carries its Spanish text in ``translations``.
"""

from __future__ import annotations

from typing import Any

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
    },
    {
        "slug": "no-longer-needed",
        "category": "circumstances",
        "label": "I no longer need it",
        "es": {"label": "Ya no lo necesito"},
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
    },
    {
        "slug": "temporary",
        "category": "circumstances",
        "label": "I only need a break for a while",
        "es": {"label": "Solo necesito un descanso por un tiempo"},
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
    },
    {
        "slug": "business-closed",
        "category": "circumstances",
        "label": "My business is closing",
        "offer_allowed": False,
        "es": {"label": "Mi negocio cierra"},
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
    },
]

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
    },
]
