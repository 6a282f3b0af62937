import AdminAPI
import ArgumentParser

struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer", abstract: "Manage a project's customers.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a customer to a project.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "Customer's email address.") var address: String
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            let body = CustomerBody(address: address, name: name)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/projects/\(project.uppercased())/customers", body: body)
            }
            if options.json { return printJSON(data) }
            print("Added customer \(address.lowercased()) to \(project.uppercased()).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's customers.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.GET, "/v1/projects/\(project.uppercased())/customers", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let customers = try decodeAnswer([CustomerView].self, data)
            print(table(["ADDRESS", "NAME"], customers.map { [$0.address, $0.name ?? ""] }))
        }
    }
}
