import EntenteCSV
import EntenteDomain
import Testing

@Suite("Mappings")
struct MappingTests {
    /// `Examples/mappings/NAME.json`, found from this file's path.
    static func shipped(_ name: String) throws -> Mapping {
        let tests = String(
            #filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
        )
        return try Mapping(contentsOfFile: tests + "/Examples/mappings/\(name).json")
    }

    static func problems(_ mapping: Mapping) -> String? {
        do {
            _ = try CSVPlan(mapping: mapping)
            return nil
        } catch {
            #expect(error.code == .invalidMapping)
            return error.message
        }
    }

    static func opportunity(_ columns: [Mapping.Column], emptyCells: String? = nil) -> Mapping {
        Mapping(objectType: "opportunity", keyColumn: "Id", emptyCells: emptyCells, columns: columns)
    }

    @Test("the shipped JSON mappings equal the built-ins", arguments: Mapping.builtinNames)
    func builtinsMatchExamples(name: String) throws {
        let builtin = try #require(Mapping.builtin(named: name))
        #expect(try Self.shipped(name) == builtin)
        #expect(builtin.name == name)
        _ = try CSVPlan(mapping: builtin)
    }

    @Test("unknown built-in names are nil")
    func unknownBuiltin() {
        #expect(Mapping.builtin(named: "salesforce") == nil)
    }

    @Test("a mapping survives its own JSON")
    func jsonRoundTrip() throws {
        for name in Mapping.builtinNames {
            let mapping = try #require(Mapping.builtin(named: name))
            #expect(try Mapping(json: Array(mapping.json().utf8)) == mapping)
        }
    }

    @Test(
        "malformed mapping JSON is rejected with the key at fault",
        arguments: [
            ("{", "not valid JSON"),
            (#"{"object_type": "opportunity", "columns": []}"#, "missing key \"key_column\""),
            (
                #"{"object_type": "opportunity", "key_column": "Id", "columns": [{"column": "A"}]}"#,
                "missing key \"field\" in columns[0]"
            ),
            (#"{"object_type": "opportunity", "key_column": "Id", "colums": []}"#, "unknown key \"colums\""),
            (
                #"{"object_type": "opportunity", "key_column": "Id", "columns": [{"column": "A", "field": "title", "date_fromat": "M/D/YYYY"}]}"#,
                "columns[0]: unknown key \"date_fromat\""
            ),
            (
                #"{"object_type": "opportunity", "key_column": "Id", "columns": [{"column": "S", "field": "stage", "values": [["a", "b", "c"]]}]}"#,
                "columns[0].values[0]"
            ),
            (#"{"object_type": 3, "key_column": "Id", "columns": []}"#, "object_type should be a string"),
        ]
    )
    func malformedJSON(json: String, mentioning: String) {
        do {
            _ = try Mapping(json: Array(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.code == .invalidMapping)
            #expect(error.message.contains(mentioning), "\(error.message)")
        }
    }

    @Test("an unknown object type is named, with the known ones")
    func unknownObjectType() {
        let message = Self.problems(Mapping(objectType: "opportunit", keyColumn: "Id", columns: [.init("A", "title")]))
        #expect(message?.contains("'opportunit' is not a known object type") == true)
        #expect(message?.contains("opportunity, lead") == true)
    }

    @Test(
        "invalid mappings are rejected with a clear sentence",
        arguments: [
            (
                [Mapping.Column("A", "title"), .init("B", "title")],
                "field 'title' is already filled by columns[0] ('A')"
            ),
            ([.init("A", "amount")], "a money field needs \"currency\""),
            ([.init("A", "amount", currency: "US Dollars")], "currency \"US Dollars\" is not an ISO 4217 code"),
            ([.init("A", "close_date", dateFormat: "DD-MM-YY")], "date_format \"DD-MM-YY\" is not one of"),
            ([.init("A", "title", dateFormat: "M/D/YYYY")], "date_format applies to date and timestamp fields"),
            (
                [.init("S", "stage", values: [.init("Won", "won")])],
                "sends 'Won' to 'won', which is not one of prospect"
            ),
            (
                [.init("S", "stage", values: [.init("Won", "closed-won"), .init("Won", "closed-lost")])],
                "lists 'Won' twice"
            ),
            ([.init("A", "title", currency: "USD")], "currency and currency_column apply to money fields"),
            ([.init("A", "title", setSeparator: ";")], "set_separator applies to set fields"),
            ([.init("A", "delivery_models", setSeparator: "")], "set_separator must be non-empty"),
            ([.init("A", "amount", type: "text", currency: "USD")], "catalog field of type money"),
            ([.init("A", "custom", type: "float")], "type \"float\" is not one of"),
            ([.init("A", "crm_id")], "crm_id is filled from key_column"),
            ([.init("A", "Lead Source")], "is not a field name"),
            ([.init("A", "title", emptyCells: "ignore")], "empty_cells \"ignore\" is not one of"),
            ([.init("A", "on_hold", values: [.init("Y", "oui")])], "a boolean is true or false"),
            ([.init("A", "close_date", values: [.init("soon", "2027-01-01")])], "value maps apply to"),
            (
                [.init("A", "amount", currencyColumn: "Cur"), .init("Cur", "currency_name")],
                "currency_column 'Cur' is also mapped"
            ),
            ([], "columns is empty"),
        ]
    )
    func invalid(columns: [Mapping.Column], mentioning: String) {
        let message = Self.problems(Self.opportunity(columns))
        #expect(message?.contains(mentioning) == true, "\(message ?? "accepted")")
    }

    @Test("every problem of a mapping is listed at once")
    func everyProblem() throws {
        let mapping = Mapping(
            objectType: "opportunity",
            keyColumn: "",
            emptyCells: "never",
            numberFormat: "1'234.56",
            columns: [.init("A", "amount"), .init("B", "stage", values: [.init("X", "nope")])]
        )
        let message = try #require(Self.problems(mapping))
        for part in [
            "key_column is empty", "empty_cells \"never\"", "number_format \"1'234.56\"", "money field needs", "'nope'",
        ] {
            #expect(message.contains(part), "\(part) in \(message)")
        }
    }

    @Test("the export header lists the key, then the columns in mapping order, currency after its amount")
    func exportHeader() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        #expect(
            plan.exportHeader == [
                "Opportunity ID", "Opportunity Name", "Account Name", "Type", "Stage", "Amount", "Opportunity Currency",
                "Probability (%)", "Close Date", "Next Step", "Forecast Category", "Region", "Loss Reason",
                "Delivery Model", "Lead Source", "Billing Country", "Opportunity Owner", "Created Date", "Description",
            ]
        )
        #expect(plan.fields.first == "title")
        #expect(plan.kind.name == "opportunity")
    }
}
