import Foundation
import Logging
import MailClients
import ServiceDesk

extension ChannelTester {
    /// "Test connection" of a linked channel, as `channel test` (the admin API) and the console's admin page run
    /// it: the channel's stored login (an OAuth 2.0 access token refreshed first), its link watermark, and the SMTP
    /// relay when one is set. A channel waiting for an admin is started again once its test passes. Throws only when
    /// the channel is unknown or the store fails; every other failure is a step of the report.
    public func test(
        channelAddress: String, store: DeskStore, tokenKeeper: OAuthTokenKeeper?, supervisor: ChannelSupervisor?,
        logger: Logger, progress: Progress? = nil
    ) async throws -> ChannelTestReport {
        let runnable = try await store.runnableChannel(address: channelAddress)
        let channel = runnable.channel
        let credentials: MailCredentials
        do {
            credentials = try await MailboxCredentials.resolve(
                username: channel.username, secret: runnable.password, method: channel.authMethod,
                oauth: tokenKeeper.flatMap { keeper in
                    channel.id.map { OAuthLogin(keeper: keeper, owner: .channel($0), forceRefresh: true) }
                })
        } catch let error as EmailChannelError {
            let step = ChannelTestReport.Step(name: "Get an access token", ok: false, detail: error.message)
            progress?(step)
            return ChannelTestReport(
                steps: [step],
                diagnosis: .init(
                    cause: PostdeskMetrics.FetchFailureCause(error.code).rawValue, summary: error.message,
                    fix: "postdesk channel reauthorize \(channel.address) signs in again; the watermark stays",
                    needsAttention: true))
        }
        var watermark: ChannelTestTarget.Watermark?
        if let validity = channel.uidValidity, let next = channel.uidNextAtLink {
            watermark = .imap(uidValidity: UInt32(clamping: validity), uidNextAtLink: UInt32(clamping: next))
        } else if let uidls = channel.pop3LinkedUIDLs {
            watermark = .pop3(uidlsAtLink: Set(uidls))
        }
        var relay: ChannelTestTarget.SMTPRelay?
        if let settings = try await store.relay() {
            relay = ChannelTestTarget.SMTPRelay(
                endpoint: MailServerEndpoint(relay: settings.settings),
                credentials: try await settings.credentials(keeper: tokenKeeper),
                from: settings.settings.fromAddress)
        }
        let target = ChannelTestTarget(
            protocol: channel.protocol, endpoint: MailServerEndpoint(channel: channel),
            credentials: credentials, watermark: watermark, smtpRelay: relay)
        var report = await test(target, logger: logger, progress: progress)
        if let advice = ProviderProfile.of(channel.provider, host: channel.host).oauthAdvice(for: channel.authMethod) {
            report.advice.append(advice)
        }
        if report.ok, let id = channel.id { await supervisor?.restart(channelId: id) }
        return report
    }
}

extension RelayTester {
    /// Tests the stored SMTP relay the way the notifier logs in to it (no mail is sent); credentials that cannot be
    /// read are a failed step too.
    public func test(stored relay: RelaySettings, tokenKeeper: OAuthTokenKeeper?, logger: Logger) async
        -> ChannelTestReport
    {
        let credentials: MailCredentials?
        do {
            credentials = try await relay.credentials(keeper: tokenKeeper)
        } catch {
            let diagnosis = RelayDiagnosis.diagnose(error)
            return ChannelTestReport(
                steps: [.init(name: "Read the relay's credentials", ok: false, detail: diagnosis.summary)],
                diagnosis: diagnosis.reportDiagnosis)
        }
        return await test(
            ChannelTestTarget.SMTPRelay(
                endpoint: MailServerEndpoint(relay: relay.settings), credentials: credentials,
                from: relay.settings.fromAddress),
            logger: logger)
    }
}
