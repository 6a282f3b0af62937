import Foundation
import MailMessage
import Testing

@testable import ServiceDesk

@Suite("Notifications in the customer's language")
struct NotificationLanguageTests {
    @Test(
        "a request written in Japanese is answered in Japanese, with a reply marker the customer's reply is cut at",
        arguments: StoreBackend.allCases)
    func japanese(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        let reading = intake(subject: "プリンターが動きません", body: "3階のプリンターが紙詰まりです。")
        #expect(try await storeAndApply(store, channel: channel, reading) == .created("SD-1"))
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "トレイを確認してください。", isPublic: true)
        let raw = try #require(try await store.outbox(requestKey: "SD-1").first?.raw)
        let text = MailParser.parse(Array(raw)).text
        #expect(text.hasPrefix("##- この行より上に返信を入力してください -##"), "\(text)")
        #expect(text.contains("agent@desk.test さんが SD-1 にコメントしました"))
        #expect(text.contains("トレイを確認してください。"))
        // The customer's reply above the marker is what becomes the comment.
        #expect(QuoteStripper.strip("了解しました。\n\n" + text) == "了解しました。")
    }

    @Test("English text, or no kana and kanji, stays English")
    func english() {
        #expect(NotificationComposer.language(of: "Printer jammed") == .en)
        #expect(NotificationComposer.language(of: "Ｐｒｉｎｔｅｒ") == .en)
        #expect(NotificationComposer.language(of: "件名") == .ja)
        #expect(NotificationComposer.language(of: "ｶﾀｶﾅ") == .ja)
        #expect(NotificationComposer.language(of: String(repeating: "a", count: 100_000) + "日本") == .en)
    }
}

@Suite("Resolving a request tells the customer")
struct ResolvedNotificationTests {
    @Test(
        "resolving queues one notice in the customer's language; again resolved, none; a reply opens it again",
        arguments: StoreBackend.allCases)
    func resolved(backend: StoreBackend) async throws {
        let (store, channel) = try await makeDesk(on: backend)
        #expect(try await storeAndApply(store, channel: channel, intake()) == .created("SD-1"))
        #expect(try await store.setRequestStatus(key: "SD-1", status: .resolved))
        #expect(try await store.setRequestStatus(key: "SD-1", status: .resolved) == false)
        let outbox = try await store.outbox(requestKey: "SD-1")
        #expect(outbox.count == 1)
        let notice = try #require(outbox.first)
        #expect(notice.recipients == ["alice@customer.test"])
        #expect(MailParser.parse(Array(notice.raw)).text.contains("Your request SD-1 has been resolved."))
        // The customer answers the notice: the request waits for support again.
        let reply = intake(
            subject: "Re: [SD-1] Printer jammed", body: "Still jammed.", messageID: "r1@customer.test",
            references: [notice.messageId], reply: "Still jammed.")
        #expect(try await storeAndApply(store, channel: channel, reply) == .commented("SD-1"))
        #expect(try await store.request(key: "SD-1").request.status == .waitingForSupport)

        #expect(
            try await storeAndApply(store, channel: channel, intake(subject: "紙詰まり", messageID: "m2@customer.test"))
                == .created("SD-2"))
        try await store.setRequestStatus(key: "SD-2", status: .resolved)
        let japanese = try #require(try await store.outbox(requestKey: "SD-2").first)
        #expect(MailParser.parse(Array(japanese.raw)).text.contains("リクエスト SD-2 は解決済みになりました。"))
    }
}
