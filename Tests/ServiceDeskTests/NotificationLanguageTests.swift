import Foundation
import MailMessage
import Testing

@testable import ServiceDesk

@Suite("Notifications in the customer's language")
struct NotificationLanguageTests {
    @Test("a request written in Japanese is answered in Japanese, with a reply marker the customer's reply is cut at")
    func japanese() async throws {
        let (store, channel) = try await makeDesk()
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
