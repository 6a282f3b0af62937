import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension OAuthProvider: ExpressibleByArgument {}

struct OAuthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oauth", abstract: "OAuth 2.0: the app registrations mailboxes and the relay log in through.",
        discussion: """
            Examples:
              postdesk oauth app add m365 --provider microsoft --client-id 00000000-0000-0000-0000-000000000000
              postdesk oauth app list
            """,
        subcommands: [App.self])

    struct App: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "app", abstract: "Register, list and remove your own OAuth 2.0 apps (Entra ID, Google Cloud).",
            discussion: """
                Examples:
                  postdesk oauth app add workspace --provider google \\
                      --client-id 1234-abc.apps.googleusercontent.com --client-secret-file secret.txt
                  postdesk oauth app list --json
                  postdesk oauth app remove workspace
                """,
            subcommands: [Add.self, List.self, Remove.self])
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an OAuth 2.0 app; its client secret is stored encrypted.",
            discussion: """
                microsoft and google bring their endpoints and mail scopes; custom takes them:
                https, with --ca-file for a private CA (plain http only to this machine).

                Examples:
                  postdesk oauth app add m365 --provider microsoft \\
                      --client-id 00000000-0000-0000-0000-000000000000 \\
                      --tenant contoso.onmicrosoft.com
                  postdesk oauth app add test --provider custom --client-id postdesk \\
                      --client-secret-file secret.txt --token-url http://127.0.0.1:8080/token \\
                      --device-authorization-url http://127.0.0.1:8080/device --scope imap
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "A name for the app, used by channels and the relay.") var name: String
        @Option(help: "The identity provider (custom takes its endpoints).") var provider: OAuthProvider
        @Option(help: "The app's client (application) id.") var clientId: String
        @Option(help: "File holding the client secret ('-': read from stdin); none for a public client.")
        var clientSecretFile: String?
        @Option(help: "Microsoft tenant: directory id or domain (default: organizations).") var tenant: String?
        @Option(help: "custom: authorization endpoint (browser flow).") var authorizationUrl: String?
        @Option(help: "custom: token endpoint.") var tokenUrl: String?
        @Option(help: "custom: device authorization endpoint (device flow).") var deviceAuthorizationUrl: String?
        @Option(name: .customLong("scope"), help: "custom: a scope to ask for (repeatable).")
        var scopes: [String] = []
        @Option(help: "custom: PEM file of a private CA the endpoints' certificates chain to.") var caFile: String?

        func run() async throws {
            var secret: String?
            if let clientSecretFile {
                secret = try readSecret(file: clientSecretFile == "-" ? nil : clientSecretFile, what: "client secret")
            }
            let body = OAuthAppBody(
                name: name, provider: provider, clientId: clientId, clientSecret: secret, tenant: tenant,
                authorizationURL: authorizationUrl, tokenURL: tokenUrl, deviceAuthorizationURL: deviceAuthorizationUrl,
                scopes: scopes.isEmpty ? nil : scopes, caFile: caFile.map { URL(fileURLWithPath: $0).path })
            let data = try await admin { try await options.client.raw(.POST, "/v1/oauth/apps", body: body) }
            if options.json { return printJSON(data) }
            let view = try decodeAnswer(OAuthAppView.self, data)
            print(
                "Registered OAuth app \(view.name) (\(view.provider.rawValue), client id \(view.clientId), "
                    + (view.secretSet ? "secret stored encrypted" : "no client secret") + ").")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the OAuth 2.0 apps; secrets are never shown, only whether one is set.",
            discussion: """
                Example:
                  postdesk oauth app list --json
                """)
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/oauth/apps", body: String?.none) }
            if options.json { return printJSON(data) }
            let apps = try decodeAnswer([OAuthAppView].self, data)
            if apps.isEmpty { return print("No OAuth apps; add one with postdesk oauth app add.") }
            print(
                apps.map { app in
                    var lines = [
                        "\(app.name): \(app.provider.rawValue), client id \(app.clientId)"
                            + (app.tenant.map { ", tenant \($0)" } ?? "")
                            + (app.secretSet ? ", secret set" : ", no secret")
                    ]
                    if let url = app.authorizationURL { lines.append("  authorization         \(url)") }
                    lines.append("  token                 \(app.tokenURL)")
                    if let url = app.deviceAuthorizationURL { lines.append("  device authorization  \(url)") }
                    if let caFile = app.caFile { lines.append("  CA file               \(caFile)") }
                    lines.append(
                        "  scopes                \(app.scopes.isEmpty ? "(none)" : app.scopes.joined(separator: " "))")
                    return lines.joined(separator: "\n")
                }.joined(separator: "\n\n"))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an OAuth 2.0 app that no channel and not the relay uses.",
            discussion: """
                Example:
                  postdesk oauth app remove m365
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The app's name.") var name: String

        func run() async throws {
            let path =
                "/v1/oauth/apps/"
                + (name.addingPercentEncoding(
                    withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name)
            let data = try await admin { try await options.client.raw(.DELETE, path, body: String?.none) }
            if options.json { return printJSON(data) }
            print("Removed OAuth app \(name).")
        }
    }
}
