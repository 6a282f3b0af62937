import AdminAPI
import ArgumentParser
import Foundation
import OAuthClient
import PostdeskWire

/// `--oauth-app` and how to sign in with it, for `channel add`, `channel reauthorize` and `smtp set`.
struct OAuthSignInOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Sign in with this OAuth 2.0 app (postdesk oauth app add); postdesk keeps the grant and refreshes it.",
            discussion: "Recommended for Gmail and Microsoft 365, which are turning off passwords and app passwords."))
    var oauthApp: String?
    @Flag(
        help: """
            Sign in through a browser (authorization code with PKCE) instead of with a device code. Over SSH, forward \
            the printed port (ssh -L PORT:127.0.0.1:PORT) and open the address on your own machine.
            """)
    var browser = false
    @Flag(help: "Sign in with a device code even where the app prefers the browser.") var device = false
    @Option(help: "Local port the browser is sent back to (default: a free one); fix it to forward it over SSH.")
    var redirectPort: Int?
    @Option(
        help: """
            The account that signs in, offered to the provider's sign-in page (default: none; for a Microsoft shared \
            mailbox, the delegate whose grant reads it, while --username stays the shared address).
            """)
    var loginHint: String?

    func validate() throws {
        if browser && device { throw ValidationError("give --browser or --device, not both") }
        if (browser || device || redirectPort != nil || loginHint != nil) && oauthApp == nil {
            throw ValidationError("--browser, --device, --redirect-port and --login-hint go with --oauth-app")
        }
        if let redirectPort, !(1...65535).contains(redirectPort) {
            throw ValidationError("--redirect-port \(redirectPort) is out of range")
        }
    }
}

/// Runs a sign-in on the server (which holds the client secret) and shows the user what to do: the device code and
/// the address, with progress while the server polls; or the browser address, with this process listening on
/// 127.0.0.1 for the redirect (RFC 8252 §7.3). Returns the finished flow's id for the command that stores the grant.
enum OAuthSignInRunner {
    static func signIn(app: String, options: OAuthSignInOptions, client: AdminClient) async throws -> String {
        let loginHint = options.loginHint
        let signIn: OAuthSignIn
        if options.browser {
            signIn = .browser
        } else if options.device {
            signIn = .device
        } else {
            let apps = try await client.call(.GET, "/v1/oauth/apps", as: [OAuthAppView].self)
            signIn = apps.first { $0.name.lowercased() == app.lowercased() }?.signIn ?? .device
        }
        switch signIn {
        case .device: return try await deviceSignIn(app: app, loginHint: loginHint, client: client)
        case .browser:
            return try await browserSignIn(
                app: app, port: options.redirectPort ?? 0, loginHint: loginHint, client: client)
        }
    }

    private static func deviceSignIn(app: String, loginHint: String?, client: AdminClient) async throws -> String {
        let started = try await client.call(
            .POST, "/v1/oauth/flows", body: OAuthFlowBody(app: app, signIn: .device, loginHint: loginHint),
            as: OAuthFlowStarted.self)
        let address = started.verificationURI ?? "the provider's device sign-in page"
        print("To sign in, open \(address) and enter the code \(started.userCode ?? "?")")
        if let complete = started.verificationURIComplete { print("(or open \(complete), which carries the code)") }
        if let message = started.message { print(message) }
        let minutes = max(1, Int(started.expiresAt.timeIntervalSinceNow / 60))
        print("The code is good for \(minutes) minute(s). Waiting for the sign-in…")
        // Shown now, even when stdout is a pipe (a script, `tee`): the user must act on it before the command ends.
        fflush(nil)
        try await follow(started.id, client: client)
        return started.id
    }

    private static func browserSignIn(app: String, port: Int, loginHint: String?, client: AdminClient) async throws
        -> String
    {
        let listener: LoopbackRedirectListener
        do {
            listener = try await LoopbackRedirectListener.start(port: port)
        } catch {
            throw AdminClient.Failure(
                message: "cannot listen on 127.0.0.1:\(port) for the browser's redirect: \(error)")
        }
        do {
            let started = try await client.call(
                .POST, "/v1/oauth/flows",
                body: OAuthFlowBody(
                    app: app, signIn: .browser, redirectURI: listener.redirectURI, loginHint: loginHint),
                as: OAuthFlowStarted.self)
            guard let url = started.authorizationURL, let state = started.state else {
                throw AdminClient.Failure(message: "the server started no browser sign-in")
            }
            let redirect = URL(string: listener.redirectURI)
            print("Open this address in a browser and sign in:\n  \(url)")
            print(
                "The browser is sent back to \(listener.redirectURI). If it runs on another machine, forward that port first: ssh -L \(redirect?.port ?? port):127.0.0.1:\(redirect?.port ?? port) THIS-HOST"
            )
            print("Waiting for the sign-in…")
            fflush(nil)
            let code: String
            do {
                code = try await listener.waitForCode(state: state, timeout: .seconds(15 * 60))
            } catch let error as OAuthError {
                throw AdminClient.Failure(message: "the sign-in failed: \(error.diagnosis.line)")
            }
            let progress = try await client.call(
                .POST, "/v1/oauth/flows/\(started.id)/code", body: OAuthFlowCodeBody(code: code, state: state),
                as: OAuthFlowProgressView.self)
            if progress.state == .failed { throw AdminClient.Failure(message: progress.error ?? "the sign-in failed") }
            await listener.close()
            return started.id
        } catch {
            await listener.close()
            throw error
        }
    }

    /// Polls the server's flow until it is approved or failed, showing the polls on stderr.
    private static func follow(_ id: String, client: AdminClient) async throws {
        let tty = isatty(STDERR_FILENO) != 0
        var lastShown = Date.distantPast
        while true {
            let progress = try await client.call(.GET, "/v1/oauth/flows/\(id)", as: OAuthFlowProgressView.self)
            switch progress.state {
            case .approved:
                if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                print("Signed in.")
                return
            case .failed:
                if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                throw AdminClient.Failure(message: progress.error ?? "the sign-in failed")
            case .waiting:
                let line = "still waiting: \(progress.polls ?? 0) check(s), every \(progress.interval ?? 5) s"
                if tty {
                    FileHandle.standardError.write(Data("\r\(line)   ".utf8))
                } else if Date().timeIntervalSince(lastShown) >= 30 {
                    FileHandle.standardError.write(Data("\(line)\n".utf8))
                    lastShown = Date()
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}
