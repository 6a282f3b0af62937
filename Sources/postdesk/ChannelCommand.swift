import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension MailboxProtocol: ExpressibleByArgument {}
extension MailProvider: ExpressibleByArgument {}

struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel", abstract: "Link and list mailboxes.",
        discussion: """
            Examples:
              postdesk channel add SD --address help@desk.test --provider gmail \\
                  --username help@desk.test --password-file pw.txt --request-type "Get help"
              postdesk channel import mailboxes.csv
              postdesk channel list
            """,
        subcommands: [
            Add.self, ChannelImportCommand.self, List.self, ChannelTestCommand.self, ChannelVerifyCommand.self,
            Reauthorize.self,
        ])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link a mailbox to a project; only mail arriving after linking is processed.",
            discussion: """
                Examples:
                  postdesk channel add SD --address help@contoso.com --provider outlook \\
                      --oauth-app contoso --request-type "Get help"
                  postdesk channel add SD --address help@desk.test --protocol imap \\
                      --host 127.0.0.1 --port 10143 --tls none --username help@desk.test \\
                      --password-file pw.txt --request-type "Get help"
                  postdesk channel add SD --address help@desk.test --protocol lmtp \\
                      --request-type "Get help"
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Option(help: "The support address customers write to.") var address: String
        @Option(
            name: .customLong("protocol"),
            help: "imap, pop3, or lmtp (push delivery into serve --lmtp-listen: no server, no password).")
        var mailProtocol: MailboxProtocol = .imap
        @Option(help: "gmail, yahoo, outlook or custom (custom needs --host, --port and --tls).")
        var provider: MailProvider = .custom
        @Option(help: "Mail server host (default: the provider's).") var host: String?
        @Option(help: "Mail server port (default: the provider's).") var port: Int?
        @Option(help: "implicit, starttls or none (default: the provider's).") var tls: ServerTLS?
        @Option(help: "PEM file of a private CA to trust.") var caFile: String?
        @Option(help: "Login name (default: the address).") var username: String?
        @Option(help: "File holding the password (else read from stdin).") var passwordFile: String?
        @Option(
            help: "An OAuth 2.0 access token kept fresh by your own tool: the file holding it, read anew at each login."
        )
        var oauth2TokenFile: String?
        @Option(help: "An OAuth 2.0 access token from your own tool: a command that prints it, run at each login.")
        var oauth2TokenCommand: String?
        @Option(help: "Request type new mail creates.") var requestType: String
        @Option(name: .customLong("extra-address"), help: "Another address delivered into this mailbox (repeatable).")
        var extraAddresses: [String] = []
        @Flag(help: "Allow --tls none to a server not on this machine: password and mail unencrypted.")
        var insecurePlaintext = false
        @OptionGroup(title: "OAuth 2.0 sign-in") var signIn: OAuthSignInOptions

        func validate() throws {
            let logins = [
                passwordFile != nil, oauth2TokenFile != nil, oauth2TokenCommand != nil, signIn.oauthApp != nil,
            ]
            if logins.filter({ $0 }).count > 1 {
                throw ValidationError(
                    "give only one of --oauth-app, --password-file, --oauth2-token-file, --oauth2-token-command")
            }
            if mailProtocol == .lmtp, signIn.oauthApp != nil {
                throw ValidationError(
                    "--protocol lmtp is push delivery: it logs in nowhere, so it takes no --oauth-app")
            }
            if mailProtocol == .lmtp,
                host != nil || port != nil || tls != nil || username != nil || passwordFile != nil
                    || oauth2TokenFile != nil || oauth2TokenCommand != nil || provider != .custom
            {
                throw ValidationError(
                    "--protocol lmtp is push delivery: it takes no --provider, --host, --port, --tls, --username or password"
                )
            }
        }

        /// What these options ask the server for; `password` reads the password when no OAuth 2 option is given.
        /// `channel import` turns each row into these options and its body comes from here too.
        func body<Failure: Error>(password: () throws(Failure) -> String) throws(Failure) -> ChannelBody {
            let (method, secret): (AuthMethod, String)
            if mailProtocol == .lmtp {
                // Push delivery logs in nowhere: nothing to read from stdin.
                (method, secret) = (.password, "")
            } else if signIn.oauthApp != nil {
                // The grant of the sign-in `run` does first; no secret is read.
                (method, secret) = (.oauth2App, "")
            } else if let oauth2TokenFile {
                (method, secret) = (.oauth2File, URL(fileURLWithPath: oauth2TokenFile).path)
            } else if let oauth2TokenCommand {
                (method, secret) = (.oauth2Command, oauth2TokenCommand)
            } else {
                (method, secret) = (.password, try password())
            }
            return ChannelBody(
                address: address, protocol: mailProtocol, provider: provider, host: host, port: port, tls: tls,
                caFile: caFile, username: username ?? address, password: secret, authMethod: method,
                requestType: requestType, extraAddresses: extraAddresses, insecurePlaintext: insecurePlaintext)
        }

        func run() async throws {
            var body = try body { try readSecret(file: passwordFile, what: "mailbox password") }
            let data = try await admin {
                if let app = signIn.oauthApp {
                    body.oauthFlow = try await OAuthSignInRunner.signIn(
                        app: app, options: signIn, client: options.client)
                }
                return try await options.client.raw(
                    .POST, "/v1/projects/\(project.uppercased())/channels", body: body)
            }
            if options.json { return printJSON(data) }
            let view = try decodeAnswer(ChannelView.self, data)
            print(
                "Linked \(view.address) to project \(view.project) (\(Self.serverText(view))); new mail becomes \"\(requestType)\" requests."
            )
            for warning in view.warnings { print("Warning: \(warning)") }
        }

        /// The channel's server as people read it; a push channel has none.
        static func serverText(_ view: ChannelView) -> String {
            view.protocol == .lmtp
                ? "push delivery over LMTP" : "\(view.protocol.rawValue.uppercased()) \(view.host):\(view.port)"
        }
    }

    struct Reauthorize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign in again for a mailbox (or switch it to OAuth 2.0) without unlinking it.",
            discussion: """
                The new grant replaces the old one; the mailbox keeps its place, so mail that arrived meanwhile \
                still becomes requests. A mailbox that logs in with a password becomes an OAuth 2.0 mailbox.

                Examples:
                  postdesk channel reauthorize help@contoso.com --oauth-app contoso
                  postdesk channel reauthorize help@example.com --oauth-app google --browser --redirect-port 8765
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The mailbox's address.") var address: String
        @OptionGroup(title: "OAuth 2.0 sign-in") var signIn: OAuthSignInOptions

        func validate() throws {
            if signIn.oauthApp == nil { throw ValidationError("name the app to sign in with: --oauth-app NAME") }
        }

        func run() async throws {
            let app = signIn.oauthApp ?? ""
            let data = try await admin {
                let flow = try await OAuthSignInRunner.signIn(app: app, options: signIn, client: options.client)
                return try await options.client.raw(
                    .POST, "/v1/channels/\(address)/reauthorize", body: ReauthorizeBody(oauthFlow: flow))
            }
            if options.json { return printJSON(data) }
            let view = try decodeAnswer(ChannelView.self, data)
            print("Reauthorized \(view.address) with OAuth app \(app); the mailbox carries on from where it stood.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List linked mailboxes.",
            discussion: """
                Example:
                  postdesk channel list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/channels", body: String?.none) }
            if options.json { return printJSON(data) }
            let channels = try decodeAnswer([ChannelView].self, data)
            print(
                table(
                    ["ADDRESS", "PROJECT", "PROTOCOL", "SERVER", "TLS", "ENABLED"],
                    channels.map {
                        [
                            $0.address, $0.project, $0.protocol.rawValue,
                            $0.protocol == .lmtp ? "(LMTP listener)" : "\($0.host):\($0.port)",
                            $0.protocol == .lmtp ? "-" : $0.tls.rawValue,
                            $0.enabled ? "yes" : "no",
                        ]
                    }))
        }
    }
}
