"""The default catalogue of reasons and offers shipped with the app (English and Spanish)."""
