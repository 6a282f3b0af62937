import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension ServerTLS: ExpressibleByArgument {}

struct SMTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp", abstract: "Configure the SMTP relay notifications are sent through.",
        discussion: """
            Example:
              postdesk smtp set --provider gmail --from help@example.com \\
                  --username help@example.com --password-file app-password.txt
            """,
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test the SMTP relay's login, then save it.",
            discussion: """
                Connects, upgrades TLS, logs in and offers the sender (MAIL FROM, then RSET: no mail is sent), and \
                prints what the relay answered. When the test fails, nothing is saved unless --save-anyway is given. \
                Saving makes the notifier try the relay at once.

                Examples:
                  postdesk smtp set --provider outlook --from help@contoso.com \\
                      --username help@contoso.com --oauth-app contoso
                  postdesk smtp set --host 127.0.0.1 --port 10025 --tls none \\
                      --from help@desk.test
                  postdesk smtp set --provider outlook --from help@example.com \\
                      --username help@example.com \\
                      --oauth2-token-command "my-token-tool --scope smtp"
                """)
        @OptionGroup var options: AdminOptions
        @Option(help: "gmail, yahoo, outlook or custom (custom needs --host, --port and --tls).")
        var provider: MailProvider = .custom
        @Option(help: "Relay host (default: the provider's).") var host: String?
        @Option(help: "Relay port, e.g. 587 submission, 465 implicit TLS (default: the provider's).") var port: Int?
        @Option(help: "implicit, starttls or none (default: the provider's).") var tls: ServerTLS?
        @Option(help: "PEM file of a private CA to trust.") var caFile: String?
        @Option(help: "Sender address of notifications.") var from: String
        @Option(help: "User name, when the relay needs a login.") var username: String?
        @Option(help: "File holding the password (else read from stdin when --username is given).")
        var passwordFile: String?
        @Option(
            help: "An OAuth 2.0 access token kept fresh by your own tool: the file holding it, read anew at each login."
        )
        var oauth2TokenFile: String?
        @Option(help: "An OAuth 2.0 access token from your own tool: a command that prints it, run at each login.")
        var oauth2TokenCommand: String?
        @Flag(help: "Allow --tls none to a relay not on this machine: password and mail unencrypted.")
        var insecurePlaintext = false
        @Flag(help: "Save the settings even when the relay's test fails.") var saveAnyway = false
        @OptionGroup(title: "OAuth 2.0 sign-in") var signIn: OAuthSignInOptions

        func validate() throws {
            let logins = [
                passwordFile != nil, oauth2TokenFile != nil, oauth2TokenCommand != nil, signIn.oauthApp != nil,
            ]
            if logins.filter({ $0 }).count > 1 {
                throw ValidationError(
                    "give only one of --oauth-app, --password-file, --oauth2-token-file, --oauth2-token-command")
            }
            if (oauth2TokenFile != nil || oauth2TokenCommand != nil || signIn.oauthApp != nil) && username == nil {
                throw ValidationError("OAuth 2 needs --username")
            }
        }

        func run() async throws {
            var method = AuthMethod.password
            var secret: String?
            if signIn.oauthApp != nil {
                method = .oauth2App
            } else if let oauth2TokenFile {
                (method, secret) = (.oauth2File, URL(fileURLWithPath: oauth2TokenFile).path)
            } else if let oauth2TokenCommand {
                (method, secret) = (.oauth2Command, oauth2TokenCommand)
            } else if username != nil {
                secret = try readSecret(file: passwordFile, what: "SMTP password")
            }
            var body = SMTPBody(
                provider: provider, host: host, port: port, tls: tls, caFile: caFile, from: from, username: username,
                password: secret, authMethod: method, insecurePlaintext: insecurePlaintext, saveAnyway: saveAnyway)
            let data = try await admin {
                if let app = signIn.oauthApp {
                    body.oauthFlow = try await OAuthSignInRunner.signIn(
                        app: app, options: signIn, client: options.client)
                }
                return try await options.client.raw(.PUT, "/v1/smtp", body: body)
            }
            if options.json { return printJSON(data) }
            let result = try decodeAnswer(SMTPSetResult.self, data)
            let relay = result.relay
            print(result.test.renderText(), terminator: "")
            let saved = result.test.ok ? "SMTP relay set" : "SMTP relay saved anyway, although its test failed"
            print("\(saved): \(relay.host):\(relay.port) (\(relay.tls.rawValue)), notifications from \(relay.from).")
        }
    }
}
