import EmailChannel
import Foundation
import ServiceDesk

/// The running server's parts the console's admin pages use besides the store and the notifier: the mailboxes'
/// states, the supervisor a passed test restarts a channel with, the router that takes retried mail at once, the
/// token keeper for OAuth 2.0 logins, and the verifier. Each is optional: without it a page shows what the store
/// knows (and a retried mail waits for the router's next sweep).
public struct ConsoleAdminServices: Sendable {
    public var statusBoard: ChannelStatusBoard?
    public var supervisor: ChannelSupervisor?
    public var requestRouter: RequestRouter?
    public var tokenKeeper: OAuthTokenKeeper?
    public var verifier: ChannelVerifier?
    /// How long a verification waits for its test email to come back as a request (the CLI's default).
    public var verifyTimeout: Duration
    /// How often a verification looks whether its test email arrived.
    public var verifyPollInterval: Duration

    public init(
        statusBoard: ChannelStatusBoard? = nil, supervisor: ChannelSupervisor? = nil,
        requestRouter: RequestRouter? = nil, tokenKeeper: OAuthTokenKeeper? = nil, verifier: ChannelVerifier? = nil,
        verifyTimeout: Duration = .seconds(120), verifyPollInterval: Duration = .seconds(1)
    ) {
        self.statusBoard = statusBoard
        self.supervisor = supervisor
        self.requestRouter = requestRouter
        self.tokenKeeper = tokenKeeper
        self.verifier = verifier
        self.verifyTimeout = verifyTimeout
        self.verifyPollInterval = verifyPollInterval
    }
}
