// A small joint pipeline built with the Entente library: three companies, a sharing policy, deals created
// and moved along the workflow, bundles exchanged in memory, and each company's KPI report.
//
// Run: swift run entente-example-pipeline
import Entente
import EntenteCore
import EntenteDomain
import EntenteReports
import Foundation

@main
struct JointPipeline {
    static func main() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("entente-example-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        // 1. Each company has its own node: keys and a SQLite database in its own directory.
        let globex = try Node.create(at: root.appendingPathComponent("globex"), companyName: "Globex")
        let initech = try Node.create(at: root.appendingPathComponent("initech"), companyName: "Initech")
        let umbra = try Node.create(at: root.appendingPathComponent("umbra"), companyName: "Umbra Cloud")
        let nodes = [globex, initech, umbra]
        for node in nodes {
            for other in nodes where other !== node { try await node.addPartner(other.card) }
        }

        // 2. Globex's policy: EMEA deals go to Initech; deal values stay private (the catalog's default).
        _ = try await globex.addPolicy(
            Policy(type: "opportunity", conditions: [Condition(field: "region", values: ["EMEA"])], invite: [initech.company])
        )

        // 3. Deals: fields are placed by the catalog (title, stage, close_date joint; amount private).
        func deal(_ node: Node, _ fields: [String: String], with partners: [Node] = []) async throws -> ObjectID {
            try await node.create(
                type: "opportunity",
                changes: Changes(fields: fields.sorted { $0.key < $1.key }.map { FieldValue($0.key, .string($0.value)) }),
                with: partners.map(\.company)
            )
        }
        let acme = try await deal(
            globex,
            ["title": "Acme data platform", "region": "EMEA", "amount": "1240000 USD", "close_date": "2027-03-31"],
            with: [umbra]
        )
        let northwind = try await deal(
            globex,
            ["title": "Northwind analytics", "region": "NA", "amount": "385000 USD"],
            with: [umbra]
        )
        let initrode = try await deal(
            initech,
            ["title": "Initrode HR suite", "region": "EMEA", "amount": "90000 EUR"],
            with: [globex]
        )

        // 4. Moves along the workflow; a refused move explains itself.
        try await globex.move(acme, to: "technical-validation")
        try await globex.move(northwind, to: "closed-won")
        do { try await globex.move(northwind, to: "qualified") } catch { print("refused as expected: \(error.message)") }
        try await initech.move(initrode, to: "committed")

        // 5. Bundles in every direction (in memory here; files or TCP in practice), twice.
        for _ in 0..<2 {
            for from in nodes {
                for to in nodes where to !== from {
                    let bundle = try await from.exportBundle(to: to.company, since: try await to.summary())
                    try await to.importBundle(bundle.encoded())
                }
            }
        }

        // 6. Each company's report from its own view; Initech's hides its private values.
        let today = CalendarDate(year: 2026, month: 12, day: 1)!
        print(renderTable(try await globex.report(ReportOptions(thisCompany: "", groupBy: .partner, asOf: today))))
        print(renderTable(try await initech.report(ReportOptions(thisCompany: "", hidePrivate: true, asOf: today))))
        let view = try await initech.object(acme)
        print("Initech sees \(view.joint("title")?.value.description ?? "?") at \(view.joint("stage")?.value.description ?? "?"),"
            + " without Globex's deal value: \(view.field("amount", of: globex.company) == nil)")
    }
}
