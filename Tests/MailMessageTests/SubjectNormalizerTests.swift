import MailMessage
import Testing

@Suite("SubjectNormalizer")
struct SubjectNormalizerTests {
    static let fixtures: [(String?, String)] = [
        ("Re: Hello", "Hello"), ("RE: Fwd: Hello", "Hello"), ("Re[2]: Hello", "Hello"), ("Re(3): Hello", "Hello"),
        ("AW: WG: Hallo", "Hallo"), ("SV: VS: Hei", "Hei"), ("Antw: Hoi", "Hoi"), ("Réf : Bonjour", "Bonjour"),
        ("TR: Bonjour", "Bonjour"), ("RV: Hola", "Hola"), ("返信: こんにちは", "こんにちは"), ("転送：資料", "資料"),
        ("Re：Re：件名", "件名"), ("回复: 你好", "你好"), ("答复：你好", "你好"), ("转发: 你好", "你好"), ("Ynt: Merhaba", "Merhaba"),
        ("Odp: Cześć", "Cześć"), ("FW: RE: re: x", "x"), ("Re:no space", "no space"),
        ("[EXT] Re: Hello", "[EXT] Re: Hello"),
        ("[SD-12] Printer", "[SD-12] Printer"), ("Recipe: cake", "Recipe: cake"), ("Re: ", "(no subject)"),
        ("", "(no subject)"),
        (nil, "(no subject)"), ("  Hello  ", "Hello"), ("Ｒｅ：全角", "全角"), ("Fwd[2]: x", "x"),
    ]

    @Test("reply and forward prefixes are removed repeatedly", arguments: fixtures)
    func strips(_ fixture: (String?, String)) {
        #expect(SubjectNormalizer.summary(from: fixture.0) == fixture.1)
    }
}
