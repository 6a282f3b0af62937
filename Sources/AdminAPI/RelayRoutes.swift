import EmailChannel
import Hummingbird
import Logging
import MailClients
import PostdeskWire
import ServiceDesk

/// `/v1/smtp`: the SMTP relay, tested before it is saved.
struct RelayRoutes: Sendable {
    let store: DeskStore
    let notifier: Notifier
    let flows: OAuthFlows
    let tokenKeeper: OAuthTokenKeeper
    let logger: Logger

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.put("/v1/smtp") { request, context in
            let body = try await request.decode(as: SMTPBody.self, context: context)
            let preset = ProviderProfile.of(body.provider ?? .custom).smtp
            guard let host = body.host ?? preset?.host, let port = body.port ?? preset?.port,
                let tls = body.tls ?? preset?.tls
            else {
                throw DeskError(.invalid, "a custom SMTP relay needs --host, --port and --tls")
            }
            guard let from = AddressNormalizer.normalize(body.from) else {
                throw DeskError(.invalid, "\"\(body.from)\" is not an email address")
            }
            guard (1...65535).contains(port) else { throw DeskError(.invalid, "port \(port) is out of range") }
            let authMethod = body.authMethod ?? .password
            // Before the test: a password must not cross the network in plaintext without consent.
            try TransportSecurity.permit(
                host: host, tls: tls, insecurePlaintext: body.insecurePlaintext ?? false, what: "the SMTP relay")
            let view = SMTPView(host: host, port: port, tls: tls, from: from, username: body.username)
            var grant: OAuthFlows.Grant?
            if authMethod == .oauth2App {
                guard let flow = body.oauthFlow, body.username != nil else {
                    throw DeskError(.invalid, "an OAuth 2.0 relay needs --username and a finished sign-in")
                }
                grant = try await flows.grant(flow)
            }
            var report = await Self.testRelay(
                MailServerEndpoint(host: host, port: port, tls: TLSMode(tls), caFile: body.caFile), from: from,
                username: body.username, secret: body.password, authMethod: authMethod,
                grantToken: grant?.tokens.accessToken, logger: logger)
            if body.username != nil,
                let advice = ProviderProfile.of(body.provider ?? .custom, host: host).oauthAdvice(for: authMethod)
            {
                report.advice.append(advice)
            }
            if !report.ok && body.saveAnyway != true {
                let reason =
                    "the SMTP relay test failed, so nothing was saved (add --save-anyway to save these settings "
                    + "anyway):\n" + report.renderText().trimmingCharacters(in: .newlines)
                throw AdminError(
                    status: .badGateway, body: SMTPSetResult(relay: view, test: report, saved: false, error: reason)
                )
            }
            try await store.setSMTP(
                host: host, port: port, tls: tls, caFile: body.caFile, fromAddress: from,
                username: body.username, password: grant == nil ? body.password : nil, authMethod: authMethod,
                insecurePlaintext: body.insecurePlaintext ?? false, grant: grant.map { ($0.appId, $0.tokens) })
            if let flow = body.oauthFlow {
                await flows.complete(flow)
                await tokenKeeper.grantsChanged()
            }
            // New settings: the relay is tried at once, whatever its backoff.
            await notifier.retryRelayNow()
            return SMTPSetResult(relay: view, test: report, saved: true, error: nil)
        }
    }

    static func testRelay(
        _ endpoint: MailServerEndpoint, from: String, username: String?, secret: String?, authMethod: AuthMethod,
        grantToken: String? = nil, logger: Logger
    ) async -> ChannelTestReport {
        var credentials: MailCredentials?
        if let username, let grantToken {
            // A sign-in just finished: its access token, before the grant is stored.
            credentials = .oauth2(username: username, accessToken: grantToken)
        } else if let username {
            do {
                credentials = try await MailboxCredentials.resolve(
                    username: username, secret: secret ?? "", method: authMethod)
            } catch {
                let diagnosis = RelayDiagnosis.diagnose(error)
                return ChannelTestReport(
                    steps: [.init(name: "Read the relay's credentials", ok: false, detail: diagnosis.summary)],
                    diagnosis: diagnosis.reportDiagnosis)
            }
        }
        return await RelayTester().test(
            ChannelTestTarget.SMTPRelay(endpoint: endpoint, credentials: credentials, from: from), logger: logger)
    }
}
