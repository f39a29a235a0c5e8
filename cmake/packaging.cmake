# Installation layout and the Debian package (`cpack -G DEB` in the build tree gives
# greenrack_<version>_<arch>.deb). Included from the top-level CMakeLists.txt once the targets
# exist and before tests/ (tests/packaging reads the directories set here).
#
# Paths are those of a Debian 12 package: the package prefix is /usr
# (CPACK_PACKAGING_INSTALL_PREFIX), so relative destinations land under /usr; /etc and the
# systemd directories are absolute.
#
#   /usr/bin/greenrackd
#   /lib/systemd/system/greenrackd.service        (systemd.pc systemdsystemunitdir)
#   /usr/lib/sysusers.d/greenrack.conf             (systemd.pc sysusersdir)
#   /usr/lib/tmpfiles.d/greenrack.conf             (systemd.pc tmpfilesdir)
#   /etc/greenrack/greenrack.toml                  (dpkg conffile)
#   /usr/share/greenrack/profiles/*.toml           (daemon.profile_dirs default)
#   /usr/share/greenrack/dashboards/               (Grafana dashboards and provisioning)
#   /usr/share/doc/greenrack/README.md
#
# greenrack-sim is not packaged: it is a development and test tool (its scenarios live in
# config/examples/ of the source tree), not something to run on a production host.
#
# Maintainer scripts: packaging/debian/{postinst,prerm,postrm}. The package is the supported way
# to install; a bare `cmake --install` needs --prefix /usr to match the unit's ExecStart and the
# daemon's default profile directory.

include(GNUInstallDirs)

# The systemd directories of the distribution the package is built on (bookworm:
# /lib/systemd/system, /usr/lib/sysusers.d, /usr/lib/tmpfiles.d), from systemd.pc when the
# systemd package is installed.
set(_greenrack_unit_dir "/lib/systemd/system")
set(_greenrack_sysusers_dir "/usr/lib/sysusers.d")
set(_greenrack_tmpfiles_dir "/usr/lib/tmpfiles.d")
pkg_get_variable(_dir systemd systemdsystemunitdir)
if(_dir)
    set(_greenrack_unit_dir "${_dir}")
endif()
pkg_get_variable(_dir systemd sysusersdir)
if(_dir)
    set(_greenrack_sysusers_dir "${_dir}")
endif()
pkg_get_variable(_dir systemd tmpfilesdir)
if(_dir)
    set(_greenrack_tmpfiles_dir "${_dir}")
endif()
unset(_dir)
set(GREENRACK_SYSTEMD_UNIT_DIR "${_greenrack_unit_dir}" CACHE PATH
    "Absolute directory of the packaged systemd unit")
set(GREENRACK_SYSUSERS_DIR "${_greenrack_sysusers_dir}" CACHE PATH
    "Absolute directory of the packaged sysusers.d snippet")
set(GREENRACK_TMPFILES_DIR "${_greenrack_tmpfiles_dir}" CACHE PATH
    "Absolute directory of the packaged tmpfiles.d snippet")
# The daemon's default --config and the unit both use /etc/greenrack/greenrack.toml.
set(GREENRACK_CONFIG_DIR "/etc/greenrack")
set(GREENRACK_PACKAGE_MAINTAINER "greenrack maintainers <maintainers@greenrack.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# Files below /etc, marked as dpkg conffiles (listed in the package's conffiles control file).
set(greenrack_conffiles "${GREENRACK_CONFIG_DIR}/greenrack.toml")

# greenrack-scan is the commissioning tool: installers run it on the gateway itself.
install(TARGETS greenrackd greenrack-scan RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/greenrackd.service
        DESTINATION ${GREENRACK_SYSTEMD_UNIT_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/systemd/greenrack.sysusers.conf
        DESTINATION ${GREENRACK_SYSUSERS_DIR} RENAME greenrack.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/greenrack.tmpfiles.conf
        DESTINATION ${GREENRACK_TMPFILES_DIR} RENAME greenrack.conf)
install(FILES ${PROJECT_SOURCE_DIR}/config/greenrack.toml DESTINATION ${GREENRACK_CONFIG_DIR})
file(GLOB _greenrack_profiles CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/profiles/*.toml)
install(FILES ${_greenrack_profiles} DESTINATION ${CMAKE_INSTALL_DATADIR}/greenrack/profiles)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dashboards/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/greenrack/dashboards PATTERN ".*" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/greenrack)

# Control files: the maintainer scripts (0755) and conffiles, generated into the build tree.
set(_greenrack_control_dir ${PROJECT_BINARY_DIR}/packaging/debian)
set(_greenrack_control_files)
foreach(_script IN ITEMS postinst prerm postrm)
    configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/${_script}
                   ${_greenrack_control_dir}/${_script} COPYONLY
                   FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    list(APPEND _greenrack_control_files ${_greenrack_control_dir}/${_script})
endforeach()
list(JOIN greenrack_conffiles "\n" _conffiles_text)
file(CONFIGURE OUTPUT ${_greenrack_control_dir}/conffiles CONTENT "${_conffiles_text}\n")
list(APPEND _greenrack_control_files ${_greenrack_control_dir}/conffiles)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "greenrack")
set(CPACK_PACKAGE_VENDOR "greenrack")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "${GREENRACK_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT") # greenrack_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${GREENRACK_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Synopsis: the project DESCRIPTION (CPACK_PACKAGE_DESCRIPTION_SUMMARY); CPack indents the
# extended description below.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "greenrackd polls rack PDUs, PV and wind inverters, battery storage and grid and
facility meters over Modbus TCP and RTU, works out second by second whether the
racks run on clean power, and publishes readings, clean-energy accounting and
alerts over MQTT, InfluxDB, Prometheus and Alertmanager. It runs as the systemd
service greenrackd.service under the system user greenrack.")
# Library dependencies come from dpkg-shlibdeps (dpkg-dev). systemd provides systemd-sysusers
# and systemd-tmpfiles, which postinst uses when present, and runs the service.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_greenrack_control_files}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# `make package_source` would otherwise sweep up the build trees and .git.
set(CPACK_SOURCE_GENERATOR "TXZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.cache/" "/node_modules/")

include(CPack)
