import Foundation
import Testing

@testable import MailClients

/// A server line (with literals) and the response it must parse to.
struct ParseFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let input: String
    let expected: IMAPResponse
    var testDescription: String { name }
}

private func status(
    _ kind: IMAPStatusKind,
    _ code: IMAPResponseCode?,
    _ text: String,
    raw: String
) -> IMAPStatusResponse {
    IMAPStatusResponse(kind: kind, code: code, text: text, rawText: raw)
}

@Suite("IMAP response parser")
struct IMAPResponseParserTests {
    static let fixtures: [ParseFixture] = [
        // Greetings
        ParseFixture(
            name: "Dovecot greeting with capabilities",
            input:
                "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n",
            expected: .untagged(
                .status(
                    status(
                        .ok,
                        .capability([
                            "IMAP4REV1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "LITERAL+", "STARTTLS",
                            "AUTH=PLAIN",
                        ]),
                        "Dovecot (Debian) ready.",
                        raw:
                            "[CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready."
                    )
                )
            )
        ),
        ParseFixture(
            name: "Gmail greeting",
            input: "* OK Gimap ready for requests from 203.0.113.9 a7mb123456789abc\r\n",
            expected: .untagged(
                .status(
                    status(
                        .ok,
                        nil,
                        "Gimap ready for requests from 203.0.113.9 a7mb123456789abc",
                        raw: "Gimap ready for requests from 203.0.113.9 a7mb123456789abc"
                    )
                )
            )
        ),
        ParseFixture(
            name: "PREAUTH greeting",
            input: "* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
            expected: .untagged(
                .status(
                    status(
                        .preauth,
                        nil,
                        "IMAP4rev1 server logged in as Smith",
                        raw: "IMAP4rev1 server logged in as Smith"
                    )
                )
            )
        ),
        ParseFixture(
            name: "BYE greeting",
            input: "* BYE Too many connections\r\n",
            expected: .untagged(.status(status(.bye, nil, "Too many connections", raw: "Too many connections")))
        ),
        // Tagged results from real providers
        ParseFixture(
            name: "Gmail web-login alert",
            input:
                "A1 NO [ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)\r\n",
            expected: .tagged(
                tag: "A1",
                status(
                    .no,
                    .alert,
                    "Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)",
                    raw:
                        "[ALERT] Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)"
                )
            )
        ),
        ParseFixture(
            name: "Yahoo app-password failure",
            input:
                "A1 NO [AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com\r\n",
            expected: .tagged(
                tag: "A1",
                status(
                    .no,
                    .authenticationFailed,
                    "(#MBR1240) Please verify your account by going to https://login.yahoo.com",
                    raw:
                        "[AUTHENTICATIONFAILED] (#MBR1240) Please verify your account by going to https://login.yahoo.com"
                )
            )
        ),
        ParseFixture(
            name: "Outlook AUTHENTICATE failed",
            input: "A1 NO AUTHENTICATE failed.\r\n",
            expected: .tagged(tag: "A1", status(.no, nil, "AUTHENTICATE failed.", raw: "AUTHENTICATE failed."))
        ),
        ParseFixture(
            name: "Outlook authenticated but not connected",
            input: "A2 NO User is authenticated but not connected.\r\n",
            expected: .tagged(
                tag: "A2",
                status(
                    .no,
                    nil,
                    "User is authenticated but not connected.",
                    raw: "User is authenticated but not connected."
                )
            )
        ),
        ParseFixture(
            name: "Dovecot failed login",
            input: "A3 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
            expected: .tagged(
                tag: "A3",
                status(
                    .no,
                    .authenticationFailed,
                    "Authentication failed.",
                    raw: "[AUTHENTICATIONFAILED] Authentication failed."
                )
            )
        ),
        ParseFixture(
            name: "tagged OK without text",
            input: "A9 OK\r\n",
            expected: .tagged(tag: "A9", status(.ok, nil, "", raw: ""))
        ),
        ParseFixture(
            name: "TRYCREATE",
            input: "A4 NO [TRYCREATE] Mailbox doesn't exist: Archive\r\n",
            expected: .tagged(
                tag: "A4",
                status(
                    .no,
                    .tryCreate,
                    "Mailbox doesn't exist: Archive",
                    raw: "[TRYCREATE] Mailbox doesn't exist: Archive"
                )
            )
        ),
        ParseFixture(
            name: "SELECT completion",
            input: "A2 OK [READ-WRITE] Select completed (0.002 + 0.000 + 0.001 secs).\r\n",
            expected: .tagged(
                tag: "A2",
                status(
                    .ok,
                    .readWrite,
                    "Select completed (0.002 + 0.000 + 0.001 secs).",
                    raw: "[READ-WRITE] Select completed (0.002 + 0.000 + 0.001 secs)."
                )
            )
        ),
        ParseFixture(
            name: "an unknown response code keeps its name and argument",
            input: "A5 NO [OVERQUOTA foo] Quota exceeded\r\n",
            expected: .tagged(
                tag: "A5",
                status(
                    .no,
                    .other(name: "OVERQUOTA", argument: "foo"),
                    "Quota exceeded",
                    raw: "[OVERQUOTA foo] Quota exceeded"
                )
            )
        ),
        ParseFixture(
            name: "a malformed response code is kept as text",
            input: "A5 NO [UIDVALIDITY abc] odd\r\n",
            expected: .tagged(tag: "A5", status(.no, nil, "[UIDVALIDITY abc] odd", raw: "[UIDVALIDITY abc] odd"))
        ),
        // Untagged SELECT data
        ParseFixture(
            name: "UIDVALIDITY",
            input: "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
            expected: .untagged(
                .status(
                    status(.ok, .uidValidity(3_857_529_045), "UIDs valid", raw: "[UIDVALIDITY 3857529045] UIDs valid"))
            )
        ),
        ParseFixture(
            name: "UIDNEXT",
            input: "* OK [UIDNEXT 4392] Predicted next UID\r\n",
            expected: .untagged(
                .status(status(.ok, .uidNext(4392), "Predicted next UID", raw: "[UIDNEXT 4392] Predicted next UID"))
            )
        ),
        ParseFixture(
            name: "PERMANENTFLAGS with \\*",
            input: "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
            expected: .untagged(
                .status(
                    status(
                        .ok,
                        .permanentFlags(["\\Deleted", "\\Seen", "\\*"]),
                        "Limited",
                        raw: "[PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited"
                    )
                )
            )
        ),
        ParseFixture(name: "EXISTS", input: "* 172 EXISTS\r\n", expected: .untagged(.exists(172))),
        ParseFixture(name: "RECENT", input: "* 1 RECENT\r\n", expected: .untagged(.recent(1))),
        ParseFixture(name: "EXPUNGE", input: "* 44 EXPUNGE\r\n", expected: .untagged(.expunge(44))),
        ParseFixture(
            name: "FLAGS",
            input: "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n",
            expected: .untagged(.flags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded"]))
        ),
        ParseFixture(
            name: "CAPABILITY",
            input: "* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS\r\n",
            expected: .untagged(
                .capability([
                    "IMAP4REV1", "UNSELECT", "IDLE", "NAMESPACE", "QUOTA", "ID", "XLIST", "CHILDREN", "X-GM-EXT-1",
                    "UIDPLUS",
                ])
            )
        ),
        ParseFixture(name: "empty SEARCH", input: "* SEARCH\r\n", expected: .untagged(.search([]))),
        ParseFixture(name: "SEARCH", input: "* SEARCH 2 84 882\r\n", expected: .untagged(.search([2, 84, 882]))),
        ParseFixture(
            name: "SEARCH with CONDSTORE MODSEQ",
            input: "* SEARCH 2 5 (MODSEQ 917162500)\r\n",
            expected: .untagged(.search([2, 5]))
        ),
        ParseFixture(name: "SEARCH with a trailing space", input: "* SEARCH \r\n", expected: .untagged(.search([]))),
        // FETCH
        ParseFixture(
            name: "FETCH with a body literal (Dovecot)",
            input:
                "* 12 FETCH (UID 4827 FLAGS (\\Recent) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4 BODY[] {4}\r\nab\r\n)\r\n",
            expected: .untagged(
                .fetch(
                    sequenceNumber: 12,
                    IMAPFetchAttributes(
                        uid: 4827,
                        flags: ["\\Recent"],
                        internalDate: Date(timeIntervalSince1970: 837_596_665),
                        rfc822Size: 4,
                        body: Array("ab\r\n".utf8)
                    )
                )
            )
        ),
        ParseFixture(
            name: "FETCH with the body first and a partial origin (Gmail order)",
            input: "* 3 FETCH (BODY[]<0> {3}\r\nxyz UID 9 FLAGS (\\Seen))\r\n",
            expected: .untagged(
                .fetch(
                    sequenceNumber: 3,
                    IMAPFetchAttributes(uid: 9, flags: ["\\Seen"], body: Array("xyz".utf8))
                )
            )
        ),
        ParseFixture(
            name: "FETCH with a quoted body",
            input: "* 3 FETCH (UID 9 BODY[] \"short \\\"one\\\"\")\r\n",
            expected: .untagged(
                .fetch(sequenceNumber: 3, IMAPFetchAttributes(uid: 9, body: Array("short \"one\"".utf8)))
            )
        ),
        ParseFixture(
            name: "FETCH with a NIL body",
            input: "* 3 FETCH (UID 9 BODY[] NIL)\r\n",
            expected: .untagged(.fetch(sequenceNumber: 3, IMAPFetchAttributes(uid: 9)))
        ),
        ParseFixture(
            name: "FETCH of a header section only (RFC 3501 §6.4.5 BODY[HEADER])",
            input: "* 4 FETCH (UID 12 RFC822.SIZE 90000000 BODY[HEADER] {16}\r\nSubject: big\r\n\r\n)\r\n",
            expected: .untagged(
                .fetch(
                    sequenceNumber: 4,
                    IMAPFetchAttributes(uid: 12, rfc822Size: 90_000_000, header: Array("Subject: big\r\n\r\n".utf8))))
        ),
        ParseFixture(
            name: "FETCH skips attributes we did not ask for",
            input:
                "* 5 FETCH (X-GM-MSGID 1278455344230334865 MODSEQ (12121) BODY[HEADER.FIELDS (FROM SUBJECT)] {2}\r\nhi UID 31 X-GM-LABELS (\\Inbox \"Sent Mail\"))\r\n",
            expected: .untagged(.fetch(sequenceNumber: 5, IMAPFetchAttributes(uid: 31)))
        ),
        ParseFixture(
            name: "unsolicited FETCH with flags only",
            input: "* 7 FETCH (FLAGS (\\Seen \\Deleted))\r\n",
            expected: .untagged(.fetch(sequenceNumber: 7, IMAPFetchAttributes(flags: ["\\Seen", "\\Deleted"])))
        ),
        ParseFixture(
            name: "INTERNALDATE with a leading space in the day",
            input: "* 1 FETCH (INTERNALDATE \" 1-Feb-2024 00:00:00 +0000\")\r\n",
            expected: .untagged(
                .fetch(sequenceNumber: 1, IMAPFetchAttributes(internalDate: Date(timeIntervalSince1970: 1_706_745_600)))
            )
        ),
        // Others
        ParseFixture(
            name: "continuation with text",
            input: "+ idling\r\n",
            expected: .continuation("idling")
        ),
        ParseFixture(name: "bare continuation", input: "+\r\n", expected: .continuation("")),
        ParseFixture(name: "empty SASL continuation", input: "+ \r\n", expected: .continuation("")),
        ParseFixture(
            name: "keepalive during IDLE",
            input: "* OK Still here\r\n",
            expected: .untagged(.status(status(.ok, nil, "Still here", raw: "Still here")))
        ),
        ParseFixture(
            name: "BYE before LOGOUT completes",
            input: "* BYE Logging out\r\n",
            expected: .untagged(.status(status(.bye, nil, "Logging out", raw: "Logging out")))
        ),
        ParseFixture(
            name: "LIST is ignored by keyword",
            input: "* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n",
            expected: .untagged(.other("LIST"))
        ),
    ]

    @Test("parses real server responses", arguments: fixtures)
    func parses(_ fixture: ParseFixture) throws {
        let response = try IMAPResponseParser.parse(IMAPFrame(fixture.input))
        #expect(response == fixture.expected)
    }

    static let hostile: [String] = [
        "\r\n",
        "garbage without a tag\r\n",
        "A1 MAYBE something\r\n",
        "A1 PREAUTH tagged preauth\r\n",
        "* 99999999999 EXISTS\r\n",
        "* 1 FETCH (UID 1\r\n",
        "* 1 FETCH (UID x)\r\n",
        "* 1 FETCH (BODY[] {10}\r\nabc)\r\n",
        "* 1 FETCH (BODY[] {99999999999999999999}\r\n)\r\n",
        "* 1 FETCH (INTERNALDATE \"yesterday\")\r\n",
        "* 1 FETCH (INTERNALDATE \"32-Jan-2024 00:00:00 +0000\")\r\n",
        "* 1 FETCH (BODY[] \"unterminated)\r\n",
        "* 1 FETCH (BODY[] \"bad \\escape\")\r\n",
        "* 1 FETCH (FLAGS (\\Seen)\r\n",
        "* FLAGS \\Seen\r\n",
        "* SEARCH 1 two 3\r\n",
        "* 1 FETCH (X " + String(repeating: "(", count: 100) + String(repeating: ")", count: 100) + ")\r\n",
        "* OK fine\r\nextra",
        "* OK no CRLF",
        "\u{0}\u{1}\u{2}\r\n",
    ]

    @Test("hostile or broken responses are protocol violations, not crashes", arguments: hostile)
    func hostileInput(_ input: String) {
        #expect {
            _ = try IMAPResponseParser.parse(IMAPFrame(input))
        } throws: { error in
            (error as? MailClientError)?.code == .protocolViolation
        }
    }

    @Test("INTERNALDATE is converted with its zone offset")
    func dates() {
        #expect(
            IMAPResponseParser.parseDateTime("01-Jan-1970 01:00:00 +0100") == Date(timeIntervalSince1970: 0)
        )
        #expect(
            IMAPResponseParser.parseDateTime("29-Feb-2024 23:59:59 -0930")
                == Date(timeIntervalSince1970: 1_709_251_199 + 34_200)
        )
        #expect(IMAPResponseParser.parseDateTime("29-Foo-2024 23:59:59 -0930") == nil)
    }
}
