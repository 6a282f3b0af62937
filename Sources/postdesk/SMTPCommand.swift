import AdminAPI
import ArgumentParser
import ServiceDesk

extension ServerTLS: ExpressibleByArgument {}

struct SMTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp", abstract: "Configure the SMTP relay notifications are sent through.",
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the SMTP relay.")
        @OptionGroup var options: AdminOptions
        @Option(help: "gmail, yahoo, outlook or custom (custom needs --host, --port and --tls).")
        var provider: String = "custom"
        @Option(help: "Relay host (default: the provider's).") var host: String?
        @Option(help: "Relay port, e.g. 587 submission, 465 implicit TLS (default: the provider's).") var port: Int?
        @Option(help: "implicit, starttls or none (default: the provider's).") var tls: ServerTLS?
        @Option(help: "PEM file of a private CA to trust.") var caFile: String?
        @Option(help: "Sender address of notifications.") var from: String
        @Option(help: "User name, when the relay needs a login.") var username: String?
        @Option(help: "File holding the password (else read from stdin when --username is given).")
        var passwordFile: String?

        func run() async throws {
            let password = username == nil ? nil : try readSecret(file: passwordFile, what: "SMTP password")
            let body = SMTPBody(
                provider: provider, host: host, port: port, tls: tls, caFile: caFile, from: from, username: username,
                password: password)
            let data = try await admin { try await options.client.raw(.PUT, "/v1/smtp", body: body) }
            if options.json { return printJSON(data) }
            let view = try decodeAnswer(SMTPView.self, data)
            print("SMTP relay set: \(view.host):\(view.port) (\(view.tls.rawValue)), notifications from \(view.from).")
        }
    }
}
