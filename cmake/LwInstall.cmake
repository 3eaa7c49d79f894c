# LwInstall.cmake: `make install` / `cmake --install`: what goes where (GNUInstallDirs, DESTDIR).
#
# The binary's rule is in app/CMakeLists.txt. /etc/logwarden is installed by LwInstallEtc.cmake at
# install time, not here: `cmake --install build --prefix /usr` must put the config in /etc (as
# GNUInstallDirs does for a /usr prefix given when configuring), and an existing config must
# survive a reinstall, which needs a comparison no install() rule can make.
install(CODE "set(LW_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
set(LW_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
set(LW_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
set(LW_BINDIR \"${CMAKE_INSTALL_BINDIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/LwInstallEtc.cmake)

install(FILES docs/man/logwarden.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/logwarden.yaml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES docs/completion/logwarden.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME logwarden)
file(GLOB lw_docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${lw_docs} docs/dashboard.png DESTINATION ${CMAKE_INSTALL_DOCDIR})

# `make uninstall` (cmake --build build --target uninstall): removes what install_manifest.txt
# lists, DESTDIR included, except the /etc files the user changed since.
add_custom_target(uninstall
  COMMAND ${CMAKE_COMMAND} -DLW_BINARY_DIR=${PROJECT_BINARY_DIR}
          -P ${PROJECT_SOURCE_DIR}/cmake/LwUninstall.cmake
  COMMENT "Removing the installed files of logwarden")
