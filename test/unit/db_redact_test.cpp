// Connection strings in messages and logs: redaction built on libpq's own
// parse, for every form libpq accepts.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "db/conninfo.hpp"
#include "db/error.hpp"

namespace foodpipe::db {
namespace {

std::string value_of(const ConninfoKeywords& keywords, const std::string& key) {
  for (const auto& [k, v] : keywords) {
    if (k == key) {
      return v;
    }
  }
  return "<unset>";
}

// `text` holds none of the fragments (each at least 3 characters long).
void expect_absent(const std::string& text, const std::vector<std::string>& fragments) {
  for (const auto& fragment : fragments) {
    EXPECT_EQ(text.find(fragment), std::string::npos) << "'" << fragment << "' in: " << text;
  }
}

TEST(DbRedact, UriPasswordBecomesStarsAndTheRestIsKept) {
  const auto shown = redact_conninfo("postgresql://app:s3cret@db.example:5433/orders?sslmode=require");
  EXPECT_EQ(shown, "user=app password=*** dbname=orders host=db.example port=5433 sslmode=require");
  expect_absent(shown, {"s3cret"});
}

TEST(DbRedact, PercentEncodedUriPasswordWithEveryAwkwardCharacter) {
  // "p?@:% w0rd", percent-encoded as a URI requires.
  const std::string uri = "postgresql://app:p%3F%40%3A%25%20w0rd@127.0.0.1:5433/orders";
  ASSERT_EQ(value_of(parse_conninfo(uri), "password"), "p?@:% w0rd");
  const auto shown = redact_conninfo(uri);
  EXPECT_EQ(value_of(parse_conninfo(shown), "password"), "***");
  EXPECT_EQ(value_of(parse_conninfo(shown), "host"), "127.0.0.1");
  expect_absent(shown, {"p?@:% w0rd", "p%3F%40%3A%25%20w0rd", "w0rd", "%3F", "%40"});
}

TEST(DbRedact, RawQuestionMarkInAUriPassword) {
  // libpq ends the user info at the first '@' or '/', so '?' belongs to the password.
  const std::string uri = "postgresql://app:pa?ss1234@db/orders";
  ASSERT_EQ(value_of(parse_conninfo(uri), "password"), "pa?ss1234");
  const auto shown = redact_conninfo(uri);
  expect_absent(shown, {"pa?ss1234", "ss1234", "pa?"});
  EXPECT_EQ(value_of(parse_conninfo(shown), "dbname"), "orders");
}

TEST(DbRedact, PasswordsInTheUriQueryEvenWithAnEncodedKey) {
  const auto shown =
      redact_conninfo("postgres://app@db/orders?sslmode=require&password=s3cret&pass%77ord=0ther&sslpassword=k3yp4ss");
  EXPECT_EQ(value_of(parse_conninfo(shown), "password"), "***");
  EXPECT_EQ(value_of(parse_conninfo(shown), "sslpassword"), "***");
  EXPECT_EQ(value_of(parse_conninfo(shown), "sslmode"), "require");
  expect_absent(shown, {"s3cret", "0ther", "k3yp4ss"});
}

TEST(DbRedact, KeywordFormQuotedEscapedAndSslPassword) {
  const auto shown = redact_conninfo(
      R"(host=db password = 'it\'s a \\ s3cret' sslpassword=k3y\ pass dbname='my db' sslkey=/keys/client.key)");
  EXPECT_EQ(shown, R"(password=*** dbname='my db' host=db sslkey=/keys/client.key sslpassword=***)");
  expect_absent(shown, {"s3cret", "it\\'s", "k3y", "pass "});
}

TEST(DbRedact, WithoutSecretsNothingIsMasked) {
  EXPECT_EQ(redact_conninfo("postgresql://postgres@localhost:5432/food_orders"),
            "user=postgres dbname=food_orders host=localhost port=5432");
  EXPECT_EQ(redact_conninfo("host=db dbname=x"), "dbname=x host=db");
  EXPECT_EQ(redact_conninfo(""), "");
}

TEST(DbRedact, AStringLibpqCannotParseIsNotShown) {
  for (const std::string bad : {"postgresql://app:s3cr%zzet@db/x", "host=db password='s3cret",
                                "postgresql://app:s3cret@[::1/x", "host=db password=s3cret bogus"}) {
    const auto shown = redact_conninfo(bad);
    expect_absent(shown, {"s3cr", "zzet", "ecret"});
    EXPECT_NE(shown.find("cannot parse"), std::string::npos) << shown;
  }
}

TEST(DbRedact, LibpqsReasonForRefusingAStringLosesTheSecretsItQuotes) {
  // libpq quotes the bad token, or the whole URI, in these reasons.
  for (const std::string bad :
       {"postgresql://app:s3cr%zzet@db/x", "postgresql://app:s3cr%00et@db/x", "postgresql://app:s3cret@[::1/x",
        "postgresql://app@db/x?password=s3cr=et", "postgresql://app:s3\"cr%zz\"et@db/x",
        "postgresql://app:s3cr\"%zz\"et@db/x"}) {
    try {
      (void)parse_conninfo(bad);
      FAIL() << "expected DbError for " << bad;
    } catch (const DbError& error) {
      EXPECT_EQ(error.exit_code(), ExitCode::usage);
      expect_absent(error.what(), {"s3cr", "%zz", "zzet", "cr%00", "cr=et"});
    }
  }
  // A keyword name is not a secret, and tells the user what to fix.
  try {
    (void)parse_conninfo("host=db password=s3cret nonsense_keyword=1");
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_NE(std::string(error.what()).find("\"nonsense_keyword\""), std::string::npos) << error.what();
    expect_absent(error.what(), {"s3cret"});
  }
}

TEST(DbRedact, SecretsAreTheValuesLibpqHides) {
  EXPECT_EQ(conninfo_secrets("postgresql://app:p%3Fw@db/x?sslpassword=k3y"),
            (std::vector<std::string>{"p?w", "k3y"}));
  EXPECT_TRUE(conninfo_secrets("host=db dbname=x").empty());
  EXPECT_TRUE(conninfo_secrets("host=db password=").empty());
  EXPECT_TRUE(conninfo_secrets("not a conninfo").empty());
}

} // namespace
} // namespace foodpipe::db
