import ServiceDesk
import Testing

@testable import EmailChannel

@Suite("OAuth 2.0 recommended first for Gmail and Microsoft 365")
struct OAuthAdviceTests {
    @Test("a password or external token at Gmail or Microsoft gets the advice; a grant, Yahoo or a custom host do not")
    func advice() throws {
        let microsoft = try #require(ProviderProfile.of(.outlook).oauthAdvice(for: .password))
        #expect(microsoft.contains("Microsoft 365") && microsoft.contains("--provider microsoft"))
        #expect(microsoft.contains("channel reauthorize"))
        let google = try #require(ProviderProfile.of(.custom, host: "imap.gmail.com").oauthAdvice(for: .oauth2File))
        #expect(google.contains("--provider google"))
        #expect(ProviderProfile.of(.gmail).oauthAdvice(for: .oauth2App) == nil)
        #expect(ProviderProfile.of(.yahoo).oauthAdvice(for: .password) == nil)
        #expect(ProviderProfile.of(.custom, host: "mail.example.com").oauthAdvice(for: .password) == nil)
    }

    @Test("channel add warns a Gmail password link, first, and an OAuth link not at all")
    func linkWarnings() {
        var draft = ChannelDraft(
            projectKey: "SD", address: "help@gmail.com", protocol: .imap, host: "imap.gmail.com", port: 993,
            tls: .implicit, caFile: nil, username: "help@gmail.com", password: "app-password",
            requestTypeName: "Help", provider: .gmail)
        let watermark = LinkWatermark(uidValidity: 1, uidNext: 1)
        let warnings = MailboxLinker.warnings(for: draft, watermark: watermark)
        #expect(warnings.first?.contains("OAuth 2.0") == true)
        draft.authMethod = .oauth2App
        #expect(MailboxLinker.warnings(for: draft, watermark: watermark).isEmpty)
    }
}
