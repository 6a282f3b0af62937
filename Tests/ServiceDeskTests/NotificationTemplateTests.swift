import Foundation
import Testing

@testable import MailMessage
@testable import ServiceDesk

/// The decoded content of the part of `raw` whose Content-Type is `type` (the composer's parts are quoted-printable).
func part(_ type: String, of raw: Data) -> String? {
    let message = String(decoding: raw, as: UTF8.self)
    for section in message.components(separatedBy: "\r\n--") {
        guard let split = section.range(of: "\r\n\r\n") else { continue }
        let headers = section[..<split.lowerBound]
        guard headers.contains("Content-Type: \(type); charset=utf-8") else { continue }
        let encoded = String(section[split.upperBound...])
        return String(decoding: TransferEncoding.decodeQuotedPrintable(Array(encoded.utf8)).bytes, as: UTF8.self)
    }
    return nil
}

@Suite("Notification templates")
struct NotificationTemplateTests {
    @Test(
        "the built-in comment notice is text and HTML; the HTML escapes what the customer and the agent wrote",
        arguments: StoreBackend.allCases)
    func builtIn(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let reading = intake(subject: "Printer <b>jammed</b> & \"stuck\"", body: "It is jammed.")
        #expect(try await storeAndApply(store, channel: channel, reading) == .created("SD-1"))
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "smith@desk.test", body: "Try <script>alert(1)</script>\nthen restart.",
            isPublic: true)
        let raw = try #require(try await store.outbox(requestKey: "SD-1").first?.raw)
        let mail = MailParser.parse(Array(raw))
        #expect(mail.subject == "[SD-1] Printer <b>jammed</b> & \"stuck\"")
        #expect(String(decoding: raw, as: UTF8.self).contains("Content-Type: multipart/alternative;"))
        let text = try #require(part("text/plain", of: raw))
        #expect(text.hasPrefix("##- Please type your reply above this line -##"))
        #expect(text.contains("smith@desk.test commented on SD-1:"))
        #expect(text.contains("Try <script>alert(1)</script>\r\nthen restart."), "the text part is not escaped")
        let html = try #require(part("text/html", of: raw))
        #expect(html.contains("Try &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("Printer &lt;b&gt;jammed&lt;/b&gt; &amp; &quot;stuck&quot;"))
        #expect(html.contains("##- Please type your reply above this line -##"))
        // The reader of the notice, and a reply quoting it, are cut at the marker.
        #expect(QuoteStripper.strip("Thanks, that worked.\n\n" + mail.text) == "Thanks, that worked.")
    }

    @Test(
        "a project's own template replaces the built-in one in its language; a broken one is refused; reset",
        arguments: StoreBackend.allCases)
    func custom(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await storeAndApply(store, channel: channel, intake()) == .created("SD-1"))
        let preview = try await store.setNotificationTemplate(
            projectKey: "sd", kind: .comment, language: .en, subject: "Update on {{request.summary}}",
            text: "Hello {{customer.name}},\n{{comment.author}} wrote:\n{{comment.body}}\n-- {{project.name}}",
            html: "<p>Hello {{customer.name}}</p><blockquote>{{comment.body}}</blockquote>")
        #expect(preview.subject == "[SD-1] Update on Printer", "the key is put in front when the template omits it")
        #expect(preview.text.contains("Hello Alice,\nAgent wrote:\nHello\n-- Desk"))

        await #expect(throws: DeskError.self) {
            _ = try await store.setNotificationTemplate(
                projectKey: "SD", kind: .comment, language: .en, subject: nil, text: "{{#comment}}unclosed",
                html: nil)
        }
        do {
            _ = try await store.setNotificationTemplate(
                projectKey: "SD", kind: .comment, language: .en, subject: nil, text: "  \n", html: nil)
            Issue.record("an empty text template was taken")
        } catch let error as DeskError {
            #expect(error.code == .invalid)
            #expect(error.message.contains("text template is empty"))
        }
        let settings = try await store.notifications(projectKey: "SD")
        #expect(settings.templates.count == 6)
        let english = try #require(settings.templates.first { $0.kind == .comment && $0.language == .en })
        #expect(english.custom)
        #expect(english.template.html == "<p>Hello {{customer.name}}</p><blockquote>{{comment.body}}</blockquote>")
        #expect(settings.templates.filter(\.custom).count == 1, "the refused templates changed nothing")

        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "smith@desk.test", body: "<i>Reboot</i> it.", isPublic: true)
        let raw = try #require(try await store.outbox(requestKey: "SD-1").first?.raw)
        #expect(MailParser.parse(Array(raw)).subject == "[SD-1] Update on Printer jammed")
        #expect(
            part("text/plain", of: raw)?.contains("Hello Alice,\r\nsmith@desk.test wrote:\r\n<i>Reboot</i> it.") == true
        )
        #expect(part("text/html", of: raw)?.contains("<blockquote>&lt;i&gt;Reboot&lt;/i&gt; it.</blockquote>") == true)

        // A Japanese request still gets the built-in Japanese notice: the English template is not its language.
        #expect(
            try await storeAndApply(store, channel: channel, intake(subject: "紙詰まり", messageID: "m2@customer.test"))
                == .created("SD-2"))
        _ = try await store.addAgentComment(
            requestKey: "SD-2", author: "tanto@desk.test", body: "確認します。", isPublic: true)
        let japanese = try #require(try await store.outbox(requestKey: "SD-2").first?.raw)
        #expect(MailParser.parse(Array(japanese)).text.contains("tanto@desk.test さんが SD-2 にコメントしました"))

        #expect(try await store.resetNotificationTemplate(projectKey: "SD", kind: .comment, language: .en))
        #expect(try await store.resetNotificationTemplate(projectKey: "SD", kind: .comment, language: .en) == false)
        #expect(try await store.notifications(projectKey: "SD").templates.allSatisfy { !$0.custom })
        await #expect(throws: DeskError.self) {
            _ = try await store.notifications(projectKey: "NOPE")
        }
    }

    @Test(
        "request received: off by default; on, one acknowledgement per new request, none past the hourly limit",
        arguments: StoreBackend.allCases)
    func received(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await storeAndApply(store, channel: channel, intake()) == .created("SD-1"))
        #expect(try await store.outbox(requestKey: "SD-1").isEmpty, "off unless the project turns it on")
        #expect(try await store.notifications(projectKey: "SD").notifyReceived == false)

        try await store.setNotifyReceived(projectKey: "SD", true)
        #expect(
            try await storeAndApply(store, channel: channel, intake(messageID: "m2@customer.test")) == .created("SD-2"))
        let ack = try #require(try await store.outbox(requestKey: "SD-2").first)
        #expect(ack.recipients == ["alice@customer.test"])
        #expect(ack.commentId == nil)
        let text = MailParser.parse(Array(ack.raw)).text
        #expect(text.contains("We have received your request SD-2."))
        #expect(String(decoding: ack.raw, as: UTF8.self).contains("Auto-Submitted: auto-generated"))
        // The customer's reply to the acknowledgement threads to the request.
        let reply = intake(
            subject: "Re: [SD-2] Printer jammed", body: "More detail.", messageID: "r2@customer.test",
            references: [ack.messageId], reply: "More detail.")
        #expect(try await storeAndApply(store, channel: channel, reply) == .commented("SD-2"))
        #expect(try await store.outbox(requestKey: "SD-2").count == 1, "a comment by the customer is not acknowledged")

        // In Japanese for a Japanese request.
        #expect(
            try await storeAndApply(store, channel: channel, intake(subject: "紙詰まり", messageID: "m3@customer.test"))
                == .created("SD-3"))
        let japanese = try #require(try await store.outbox(requestKey: "SD-3").first)
        #expect(MailParser.parse(Array(japanese.raw)).text.contains("リクエスト SD-3 を受け付けました。"))

        // Past the hourly limit for one address, no acknowledgement at all (none held to go out hours later).
        var created = 3
        var acknowledged = try await store.outboxEntries().count
        while acknowledged < DeskStore.recipientHourlyLimit {
            created += 1
            _ = try await storeAndApply(
                store, channel: channel, intake(messageID: "flood\(created)@customer.test"),
                policy: IntakePolicy(senderHourlyLimit: 1000))
            acknowledged = try await store.outboxEntries().count
        }
        #expect(
            try await storeAndApply(
                store, channel: channel, intake(messageID: "over@customer.test"),
                policy: IntakePolicy(senderHourlyLimit: 1000)) == .created("SD-\(created + 1)"))
        #expect(try await store.outbox(requestKey: "SD-\(created + 1)").isEmpty)
        #expect(try await store.outboxEntries(status: .held).isEmpty)

        // An agent opening a request by mail is not acknowledged; turned off, a customer's is not either.
        _ = try await store.addAgent(email: "bob@desk.test", name: "Bob", role: .agent, passwordHash: nil)
        #expect(
            try await storeAndApply(store, channel: channel, intake(from: "bob@desk.test", messageID: "b@desk.test"))
                == .created("SD-\(created + 2)"))
        #expect(try await store.outbox(requestKey: "SD-\(created + 2)").isEmpty, "an agent's own request")
        try await store.setNotifyReceived(projectKey: "SD", false)
        #expect(
            try await storeAndApply(store, channel: channel, intake(from: "carol@customer.test", messageID: "c@c.test"))
                == .created("SD-\(created + 3)"))
        #expect(try await store.outbox(requestKey: "SD-\(created + 3)").isEmpty, "off again")
    }
}
