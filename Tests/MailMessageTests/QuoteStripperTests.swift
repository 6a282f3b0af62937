import MailMessage
import Testing

@Suite("QuoteStripper")
struct QuoteStripperTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var name: String
        var text: String
        var expected: String
        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(
            name: "en attribution",
            text: "Thanks!\n\nOn Mon, 2 Nov 2026 at 10:00, Desk <help@desk.test> wrote:\n> old\n> text",
            expected: "Thanks!"),
        Fixture(
            name: "wrapped attribution",
            text: "Ok\n\nOn Mon, Nov 2, 2026 at 10:00 AM Support Desk <\nhelp@desk.test> wrote:\n\n> old",
            expected: "Ok"),
        Fixture(
            name: "de", text: "Danke\n\nAm 02.11.2026 um 10:00 schrieb Desk <help@desk.test>:\n> alt", expected: "Danke"
        ),
        Fixture(
            name: "fr", text: "Merci\n\nLe lun. 2 nov. 2026 à 10:00, Desk <help@desk.test> a écrit :\n> vieux",
            expected: "Merci"),
        Fixture(
            name: "es", text: "Gracias\n\nEl lun, 2 nov 2026 a las 10:00, Desk (<help@desk.test>) escribió:\n> viejo",
            expected: "Gracias"),
        Fixture(name: "ja san", text: "了解です。\n\n山田さんは書きました:\n> 古い", expected: "了解です。"),
        Fixture(
            name: "ja date", text: "了解です。\n\n2026年11月20日(金) 10:15 山田太郎 <taro@example.jp>:\n> 古い", expected: "了解です。"),
        Fixture(
            name: "inline answers", text: "> Question one?\nAnswer one.\n> Question two?\nAnswer two.",
            expected: "Answer one.\n\nAnswer two.".replacingOccurrences(of: "\n\n", with: "\n")),
        Fixture(
            name: "outlook original", text: "Fine.\n\n-----Original Message-----\nFrom: Desk\nSent: Monday\nold",
            expected: "Fine."),
        Fixture(
            name: "outlook block",
            text:
                "Fine.\n\n________________________________\nFrom: Desk <help@desk.test>\nSent: Monday, November 2, 2026 10:00\nTo: me\nSubject: x\n\nold",
            expected: "Fine."),
        Fixture(
            name: "outlook de",
            text: "Gut.\n\nVon: Desk <help@desk.test>\nGesendet: Montag, 2. November 2026 10:00\nAn: ich\nBetreff: x",
            expected: "Gut."),
        Fixture(
            name: "outlook fr",
            text: "Bien.\n\nDe : Desk <help@desk.test>\nEnvoyé : lundi 2 novembre 2026 10:00\nÀ : moi\nObjet : x",
            expected: "Bien."),
        Fixture(
            name: "outlook ja", text: "承知しました。\n\n差出人: Desk <help@desk.test>\n送信日時: 2026年11月2日 10:00\n宛先: 私\n件名: x",
            expected: "承知しました。"),
        Fixture(
            name: "marker",
            text: "Done.\n\n##- Please type your reply above this line -##\n\nYour request was updated.",
            expected: "Done."),
        Fixture(name: "signature", text: "Works now.\n\n-- \nAlice\nACME Inc.", expected: "Works now."),
        Fixture(name: "iphone", text: "Yes\n\nSent from my iPhone\n\n> old", expected: "Yes"),
        Fixture(name: "iphone ja", text: "はい\n\niPhoneから送信\n", expected: "はい"),
        Fixture(name: "outlook android", text: "Yes\n\nSent from Outlook for Android\nFrom: Desk", expected: "Yes"),
        Fixture(
            name: "attribution not followed by quotes", text: "Monday:\nOn Tuesday Bob wrote:\nit works.",
            expected: "Monday:\nOn Tuesday Bob wrote:\nit works."),
        Fixture(
            name: "gmail zh", text: "好的\n\nDesk <help@desk.test> 于2026年11月20日周五 10:15写道：\n> 旧", expected: "好的"),
        Fixture(
            name: "gmail ru", text: "Спасибо\n\nпт, 20 нояб. 2026 г. в 10:15, Desk <help@desk.test>:\n> старое",
            expected: "Спасибо"),
        Fixture(
            name: "gmail pl", text: "Dzięki\n\npt., 20 lis 2026 o 10:15 Desk <help@desk.test> napisał(a):\n> stare",
            expected: "Dzięki"),
        Fixture(
            name: "gmail ko", text: "감사합니다\n\n2026년 11월 20일 (금) 오전 10:15, Desk <help@desk.test>님이 작성:\n> 이전",
            expected: "감사합니다"),
        Fixture(
            name: "gmail it",
            text: "Grazie\n\nIl giorno ven 20 nov 2026 alle ore 10:15 Desk <help@desk.test> ha scritto:\n> vecchio",
            expected: "Grazie"),
        Fixture(
            name: "forwarded inside a reply",
            text:
                "Please look.\n\n---------- Forwarded message ----------\nFrom: Kim <kim@x.test>\nDate: Mon\nSubject: x\nTo: me\n\n> kept",
            expected:
                "Please look.\n\n---------- Forwarded message ----------\nFrom: Kim <kim@x.test>\nDate: Mon\nSubject: x\nTo: me\n\n> kept"
        ),
        Fixture(
            name: "travel request is not a reply header", text: "Please book:\nFrom: Berlin\nTo: Munich\nDate: Monday",
            expected: "Please book:\nFrom: Berlin\nTo: Munich\nDate: Monday"),
        Fixture(
            name: "outlook internal names only",
            text: "Done.\n\nFrom: Smith, John\nSent: Monday, November 2, 2026 10:00\nTo: Desk\nSubject: x\n\nold",
            expected: "Done."),
        Fixture(name: "only quotes", text: "> all quoted", expected: ""),
    ]

    @Test("quoted originals, signatures and sign-offs are removed", arguments: fixtures)
    func strips(_ fixture: Fixture) {
        #expect(QuoteStripper.strip(fixture.text) == fixture.expected)
    }
}
