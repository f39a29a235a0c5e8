#include "drivers/common/toml_reader.hpp"

#include <catch2/catch.hpp>

TEST_CASE("a URL quoted in a message has its user name and password replaced by ***") {
    using greenrack::common::redact_url_userinfo;
    using greenrack::common::url_has_userinfo;
    CHECK(redact_url_userinfo("http://admin:s3cret@influx:8086/x") == "http://***@influx:8086/x");
    CHECK(redact_url_userinfo("tcp://a@b@broker:1883") == "tcp://***@broker:1883");
    CHECK(redact_url_userinfo("http://influx:8086/p@th") == "http://influx:8086/p@th");
    CHECK(redact_url_userinfo("user:pw@host:1883") == "***@host:1883");
    CHECK(url_has_userinfo("http://u:p@h:1"));
    CHECK(url_has_userinfo("u:p@h:1"));
    CHECK_FALSE(url_has_userinfo("http://h:1/a@b"));
    CHECK_FALSE(url_has_userinfo("http://h:1"));
}
