# LwInstallEtc.cmake: at install time: /etc/logwarden (config, shipped rules), the systemd unit.
#
# Run by cmake_install.cmake (LwInstall.cmake sets LW_SOURCE_DIR, LW_BINARY_DIR, LW_SYSCONFDIR,
# LW_BINDIR first), so CMAKE_INSTALL_PREFIX is the prefix of this install, `--prefix` included.
# file(INSTALL) adds DESTDIR and records each file in install_manifest.txt.

# sysconfdir as GNUInstallDirs resolves it: /etc for the / and /usr prefixes, /etc/opt/X for
# /opt/X, else PREFIX/etc.
set(lw_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" lw_prefix_trim "${lw_prefix}")
if(IS_ABSOLUTE "${LW_SYSCONFDIR}")
  set(lw_etc "${LW_SYSCONFDIR}/logwarden")
elseif(lw_prefix_trim STREQUAL "" OR lw_prefix_trim STREQUAL "/usr")
  set(lw_etc "/etc/logwarden")
elseif(lw_prefix_trim MATCHES "^/opt/")
  set(lw_etc "/etc${lw_prefix_trim}/logwarden")
else()
  set(lw_etc "${lw_prefix_trim}/${LW_SYSCONFDIR}/logwarden")
endif()
set(lw_bin "${lw_prefix_trim}/${LW_BINDIR}/logwarden")
if(IS_ABSOLUTE "${LW_BINDIR}")
  set(lw_bin "${LW_BINDIR}/logwarden")
endif()

# What this install wrote under /etc (without DESTDIR, as in install_manifest.txt), with its
# source: `make uninstall` keeps a file that no longer matches its source (the user edited it).
set(lw_etc_list "${LW_BINARY_DIR}/install_etc.txt")
file(WRITE "${lw_etc_list}" "")
# The DESTDIR of this install: `make uninstall` without it after `make install DESTDIR=/tmp/pkg`
# would remove the host's /usr/bin/logwarden, so it refuses a different one.
file(WRITE "${LW_BINARY_DIR}/install_destdir.txt" "$ENV{DESTDIR}")

# Installs SRC as DIR/NAME unless a different file is there already: then the shipped one goes
# beside it as NAME.new (as rpm's .rpmnew) and the user's stays in use.
function(lw_install_conf src dir name)
  set(dst "$ENV{DESTDIR}${dir}/${name}")
  if(EXISTS "${dst}")
    file(SHA256 "${src}" new_sum)
    file(SHA256 "${dst}" old_sum)
    if(NOT new_sum STREQUAL old_sum)
      message(STATUS "Keeping: ${dst} (changed); the shipped one is ${dst}.new")
      file(INSTALL DESTINATION "${dir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
           WORLD_READ FILES "${src}" RENAME "${name}.new")
      set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
      return()
    endif()
  endif()
  file(INSTALL DESTINATION "${dir}" TYPE FILE PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
       WORLD_READ FILES "${src}" RENAME "${name}")
  file(APPEND "${lw_etc_list}" "${dir}/${name}|${src}\n")
  # file(INSTALL) records into this variable of the calling scope: the function's, here.
  set(CMAKE_INSTALL_MANIFEST_FILES "${CMAKE_INSTALL_MANIFEST_FILES}" PARENT_SCOPE)
endfunction()

lw_install_conf("${LW_SOURCE_DIR}/examples/etc/logwarden.yaml" "${lw_etc}" logwarden.yaml)
file(GLOB lw_rules "${LW_SOURCE_DIR}/rules.d/*.yaml")
foreach(r IN LISTS lw_rules)
  get_filename_component(n "${r}" NAME)
  lw_install_conf("${r}" "${lw_etc}/rules.d" "${n}")
endforeach()

# The units name the binary and the config by their installed paths (/usr/bin, /etc in the
# source): other prefixes get theirs. logwarden.socket goes too when examples/systemd has one.
file(GLOB lw_units "${LW_SOURCE_DIR}/examples/systemd/logwarden.service"
     "${LW_SOURCE_DIR}/examples/systemd/logwarden.socket")
foreach(u IN LISTS lw_units)
  get_filename_component(n "${u}" NAME)
  file(READ "${u}" lw_unit)
  string(REPLACE "/usr/bin/logwarden" "${lw_bin}" lw_unit "${lw_unit}")
  string(REPLACE "/etc/logwarden" "${lw_etc}" lw_unit "${lw_unit}")
  file(WRITE "${LW_BINARY_DIR}/install/${n}" "${lw_unit}")
  file(INSTALL DESTINATION "${lw_prefix_trim}/lib/systemd/system" TYPE FILE
       FILES "${LW_BINARY_DIR}/install/${n}")
endforeach()
