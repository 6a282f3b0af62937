import Testing

@testable import MailMessage

@Suite("MailAddress.parseList")
struct MailAddressTests {
    struct Fixture: CustomTestStringConvertible, Sendable {
        var header: String
        var expected: [MailAddress]
        var testDescription: String { header }
    }

    static let fixtures: [Fixture] = [
        Fixture(header: "alice@Example.COM", expected: [MailAddress(address: "alice@example.com")]),
        Fixture(
            header: "Alice <Alice@Example.com>", expected: [MailAddress(name: "Alice", address: "Alice@example.com")]),
        Fixture(
            header: "\"Doe, John\" <john@x.test>, bob@y.test",
            expected: [MailAddress(name: "Doe, John", address: "john@x.test"), MailAddress(address: "bob@y.test")]),
        Fixture(
            header: "Team: anne@x.test, Ben <ben@y.test>;, help@desk.test",
            expected: [
                MailAddress(address: "anne@x.test"), MailAddress(name: "Ben", address: "ben@y.test"),
                MailAddress(address: "help@desk.test"),
            ]),
        Fixture(header: "undisclosed-recipients:;", expected: []),
        Fixture(
            header: "alice@example.com (Alice Example)",
            expected: [MailAddress(name: "Alice Example", address: "alice@example.com")]),
        Fixture(
            header: "=?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro@example.jp>",
            expected: [MailAddress(name: "山田太郎", address: "taro@example.jp")]),
        Fixture(
            header: "\"=?ISO-8859-1?Q?Andr=E9?=\" <andre@x.test>",
            expected: [MailAddress(name: "André", address: "andre@x.test")]),
        Fixture(
            header: "Jörg Müller <jörg@bücher.example>",
            expected: [MailAddress(name: "Jörg Müller", address: "jörg@bücher.example")]),
        Fixture(header: "<@route.test:user@host.test>", expected: [MailAddress(address: "user@host.test")]),
        Fixture(header: "\"a\\\"b\" <ab@x.test>", expected: [MailAddress(name: "a\"b", address: "ab@x.test")]),
        Fixture(
            header: "Name (comment (nested)) <n@x.test>", expected: [MailAddress(name: "Name", address: "n@x.test")]),
        Fixture(header: "", expected: []),
        Fixture(header: ",,,", expected: []),
        Fixture(header: "<>", expected: []),
    ]

    @Test("address lists parse to mailboxes with decoded names and lowercased domains", arguments: fixtures)
    func parses(_ fixture: Fixture) {
        #expect(MailAddress.parseList(fixture.header) == fixture.expected)
    }

    @Test("local part and domain are split at the last @")
    func parts() {
        let address = MailAddress(address: "\"a@b\"@Host.Test")
        #expect(address.localPart == "\"a@b\"")
        #expect(address.domain == "host.test")
    }
}
