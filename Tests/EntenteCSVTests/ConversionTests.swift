import EntenteCSV
import EntenteCore
import EntenteDomain
import Testing

@Suite("Row conversion")
struct ConversionTests {
    static let root = String(
        #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    )
    static let initech = String(repeating: "1", count: 32)
    static let umbra = String(repeating: "2", count: 32)

    static func partners(_ name: String) -> String? {
        ["initech": initech, "umbra cloud": umbra][name.lowercased()] ?? CSVPlan.companyIDs(name)
    }

    static func plan(_ name: String) throws -> CSVPlan {
        try CSVPlan(mapping: #require(Mapping.builtin(named: name)))
    }

    static func money(_ amount: String, _ code: String) -> Value {
        (try? FieldType.money.parse("\(amount) \(code)").get()) ?? .null
    }

    @Test("the shipped Salesforce sample imports completely")
    func salesforceSample() throws {
        let plan = try Self.plan("salesforce-opportunity")
        var progress: [Int] = []
        let result = try plan.convert(
            fileAt: Self.root + "/Examples/data/salesforce-opportunities.csv",
            progress: { progress.append($0) }
        )
        #expect(result.errors == [])
        #expect(result.rows.count == 12)
        #expect(result.recordsRead == 12)
        #expect(progress.last == 12)
        #expect(result.warnings == ["ignored columns (not in the mapping): Fiscal Period"])

        let acme = try #require(result.rows.first)
        #expect(acme.key == "0068d00000KxA1AAAQ")
        #expect(acme.line == 2)
        #expect(acme.value("account") == .string("Acme, Inc."))
        #expect(acme.value("type") == .string("net-new"))
        #expect(acme.value("stage") == .string("qualified"))
        #expect(acme.value("crm_stage") == .string("Qualification"))
        #expect(acme.value("amount") == Self.money("1240000", "USD"))
        #expect(acme.value("probability") == .integer(20))
        #expect(acme.value("close_date") == .date(CalendarDate(year: 2027, month: 3, day: 31)!))
        #expect(acme.value("crm_created_date") == .date(CalendarDate(year: 2026, month: 10, day: 2)!))
        #expect(acme.value("forecast_category") == .string("pipeline"))
        #expect(acme.elements("delivery_models") == ["saas", "marketplace"])
        #expect(acme.value("crm_id") == nil)
        #expect(acme.value("Fiscal Period") == nil)

        let northwind = result.rows[1]
        #expect(northwind.value("next_steps") == .string("Security review with CISO\nthen pricing call"))
        #expect(northwind.value("amount") == Self.money("385000", "USD"))
        #expect(result.rows[2].line == 5, "the line after a two-line record")
        #expect(result.rows[2].value("amount") == Self.money("2150000", "EUR"))
        #expect(result.rows[2].value("notes") == .string("Customer asked for \"EU-only\" hosting."))
        let tailspin = result.rows[3]
        #expect(tailspin.value("amount") == nil, "an empty amount leaves the field as is")
        #expect(tailspin.value("next_steps") == nil)
        #expect(tailspin.elements("delivery_models") == nil)
        let litware = result.rows[6]
        #expect(litware.value("stage") == .string("closed-lost"))
        #expect(litware.value("closed_lost_reason") == .string("Lost to incumbent on price"))
        #expect(result.rows[11].value("amount") == Self.money("250000", "USD"), "the default currency")
    }

    @Test("the shipped generic pipeline imports completely, partners resolved by name")
    func pipelineSample() throws {
        let plan = try Self.plan("generic-pipeline")
        let result = try plan.convert(
            fileAt: Self.root + "/Examples/data/pipeline.csv",
            resolveCompany: Self.partners
        )
        #expect(result.errors == [])
        #expect(result.warnings == [])
        #expect(result.rows.count == 8)
        #expect(result.rows[0].value("originating_company") == .string(Self.initech))
        #expect(result.rows[1].value("originating_company") == .string(Self.umbra))
        #expect(result.rows[3].value("on_hold") == .boolean(true))
        #expect(result.rows[6].value("next_steps") == .string("Architecture review\nPOC criteria"))
        #expect(result.rows[7].line == 10)
    }

    @Test("an unknown company is a row error")
    func unknownCompany() throws {
        let plan = try Self.plan("generic-pipeline")
        let result = try plan.convert(text: "id,sourced_by\nP-1,Hooli\nP-2,initech\n", resolveCompany: Self.partners)
        #expect(
            result.errors == [
                RowError(
                    line: 2,
                    column: "sourced_by",
                    message: "unknown company 'Hooli': not the name or id of a company this node knows"
                )
            ]
        )
        #expect(result.rows.map(\.key) == ["P-2"])
        #expect(result.rows.first?.value("originating_company") == .string(Self.initech))
    }

    @Test("every bad cell is reported with its line and column; good rows still convert")
    func rowErrors() throws {
        let plan = try Self.plan("salesforce-opportunity")
        let text = """
            Opportunity ID,Stage,Amount,Opportunity Currency,Close Date,Probability (%)
            A1,Prospecting,100,USD,1/2/2027,10
            A2,Dreaming,"1,00",USD,31/1/2027,150
            A3,"Closed Won",5,Euro,1/2/2027,100
            ,Prospecting,1,USD,1/2/2027,10
            A4,"Prospecting
            (second line)",1,USD,1/2/2027,10
            A5,Prospecting,7,,2/30/2027,0

            """
        let result = try plan.convert(text: text)
        #expect(result.rows.map(\.key) == ["A1"])
        #expect(result.errors.map(\.line) == [3, 3, 3, 3, 4, 5, 6, 8])
        #expect(
            result.errors.map(\.column) == [
                "Stage", "Amount", "Probability (%)", "Close Date", "Amount", "Opportunity ID", "Stage", "Close Date",
            ],
            "errors of a row come in mapping order"
        )
        #expect(result.errors[0].message.contains("'Dreaming' is not a known stage"))
        #expect(result.errors[2].message == "'150' is out of range 0-100")
        #expect(result.errors[3].message.contains("'31/1/2027' is not a date in the form M/D/YYYY or YYYY-MM-DD"))
        #expect(result.errors[4].message.contains("'Euro' in column 'Opportunity Currency' is not an ISO 4217"))
        #expect(result.errors[5].message == "the key (the CRM record id) is empty")
        #expect(result.badLines == [3, 4, 5, 6, 8])
        #expect(result.recordsRead == 6)
        #expect(result.errors[3].description.hasPrefix("line 3, column \"Close Date\": '31/1/2027'"))
    }

    @Test("a key seen twice is an error naming both lines; the first row stands")
    func duplicateKeys() throws {
        let plan = try Self.plan("generic-pipeline")
        let result = try plan.convert(text: "id,name\nP-1,First\nP-2,Other\n\nP-1,Again\n P-2 ,Spaces\n")
        #expect(result.rows.map(\.key) == ["P-1", "P-2"])
        #expect(result.errors.map(\.line) == [5, 6])
        #expect(result.errors[0].message == "key 'P-1' is also on line 2: each record may appear once per file")
        #expect(result.errors[1].message.contains("line 3"))
    }

    @Test("malformed CSV rows become row errors with their line; an unterminated quote ends the file")
    func malformedRows() throws {
        let plan = try Self.plan("generic-pipeline")
        let result = try plan.convert(text: "id,name\nP-1,ok\nP-2,bad\"quote\nP-3,a,b\nP-4,\"open\nP-5,never read\n")
        #expect(result.rows.map(\.key) == ["P-1"])
        #expect(result.errors.map(\.line) == [3, 4, 5])
        #expect(result.errors.map(\.column) == ["name", nil, "name"])
        #expect(result.errors[2].message.contains("unterminated"))
    }

    @Test("empty cells: skip leaves fields alone, unset clears them, a value map can give them a meaning")
    func emptyCells() throws {
        let columns: [Mapping.Column] = [
            .init("title", "title"), .init("amount", "amount", currency: "USD"),
            .init("models", "delivery_models"),
            .init("hold", "on_hold", values: [.init("x", "true"), .init("", "false")]),
        ]
        let text = "id,title,amount,models,hold\n1,,,,\n"
        let skip = try CSVPlan(mapping: Mapping(objectType: "opportunity", keyColumn: "id", columns: columns))
        let skipped = try #require(try skip.convert(text: text).rows.first)
        #expect(skipped.values.map(\.field) == ["on_hold"])
        #expect(skipped.value("on_hold") == .boolean(false))
        #expect(skipped.sets.isEmpty)

        let unset = try CSVPlan(
            mapping: Mapping(objectType: "opportunity", keyColumn: "id", emptyCells: "unset", columns: columns)
        )
        let cleared = try #require(try unset.convert(text: text).rows.first)
        #expect(cleared.value("title") == .null)
        #expect(cleared.value("amount") == .null)
        #expect(cleared.elements("delivery_models") == [])
        #expect(cleared.value("on_hold") == .boolean(false))
    }

    @Test("set cells are split, trimmed, mapped and deduplicated")
    func sets() throws {
        let plan = try Self.plan("salesforce-opportunity")
        let result = try plan.convert(text: "Opportunity ID,Delivery Model\n1,\"SaaS; marketplace ;;SaaS;Custom\"\n")
        #expect(result.rows.first?.elements("delivery_models") == ["saas", "marketplace", "Custom"])
    }

    @Test("header problems: a missing key column or a duplicated mapped column stops the import")
    func headerProblems() throws {
        let plan = try Self.plan("generic-pipeline")
        do {
            _ = try plan.convert(text: "ID_X,name\n1,a\n")
            Issue.record("imported without a key column")
        } catch {
            #expect(error.code == .missingColumn)
            #expect(error.message.contains("no key column 'id'"))
        }
        do {
            _ = try plan.convert(text: "id,name,name\n1,a,b\n")
            Issue.record("imported a duplicated column")
        } catch {
            #expect(error.code == .duplicateColumn)
            #expect(error.message.contains("columns 2 and 3"))
        }
        do {
            _ = try plan.convert(text: "id,amount\n1,5\n")
            Issue.record("imported amounts without a currency")
        } catch {
            #expect(error.code == .missingColumn)
            #expect(error.message.contains("currency column 'currency'"))
        }
        let unmappedDuplicates = try plan.convert(text: "id,x,x\n1,a,b\n")
        #expect(unmappedDuplicates.rows.count == 1)
    }

    @Test("columns are matched exactly, then ignoring case and spaces; missing ones are warnings")
    func headerMatching() throws {
        let plan = try Self.plan("salesforce-opportunity")
        let result = try plan.convert(text: "opportunity id, STAGE ,Extra\n1,Prospecting,z\n")
        #expect(result.rows.first?.value("stage") == .string("prospect"))
        #expect(result.warnings.contains("ignored columns (not in the mapping): Extra"))
        let missing = try #require(result.warnings.first { $0.hasPrefix("columns of the mapping not in the file") })
        #expect(missing.contains(": Opportunity Name, Account Name, Type, Amount, Probability (%)"))
        #expect(!missing.contains("Stage"))
    }

    @Test("the streaming form reports rows, errors and progress as it reads")
    func streaming() throws {
        let plan = try Self.plan("generic-pipeline")
        var text = "id,probability\n"
        for index in 1...2_500 { text += "P-\(index),\(index % 7 == 0 ? "high" : "50")\n" }
        let reader = try CSVReader(string: text)
        var rows = 0
        var errors = 0
        var progress: [Int] = []
        let warnings = try plan.convert(
            reader,
            progress: { progress.append($0) },
            onRow: { _ in rows += 1 },
            onError: { _ in errors += 1 }
        )
        #expect(warnings.count == 1)
        #expect(rows + errors == 2_500)
        #expect(errors == 2_500 / 7)
        #expect(progress == [1_000, 2_000, 2_500])
    }

    @Test("a plan for a kind other than the mapping's object type is refused")
    func kindMismatch() {
        let mapping = Mapping(objectType: "opportunity", keyColumn: "id", columns: [.init("name", "customer")])
        #expect(throws: CSVError.self) { try CSVPlan(mapping: mapping, kind: Catalog.lead) }
    }
}
