"""Official PDF documents of a published event: Berita Acara Penilaian, the draft decree
(SK) naming the winners, and a development report (*rapor pembinaan*) per entry."""
