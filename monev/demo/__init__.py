"""The demo competition: Monev KIM se-Kalimantan Timur, from the seed news articles."""
